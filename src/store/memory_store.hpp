// An in-process store: the simple reference model of the Store contract, and the store of
// eager mode. Not shared between processes; lost when the process exits.
#pragma once

#include <memory>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct MemoryStoreOptions {
  std::size_t max_body_bytes = 1 << 20;  // ResourceExhausted above it. Default 1 MiB.
  Millis dead_retention_ms = 7LL * 24 * 3600 * 1000;
};

std::unique_ptr<Store> new_memory_store(const MemoryStoreOptions& options = {});

}  // namespace runq
