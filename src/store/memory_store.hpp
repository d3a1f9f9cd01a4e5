// An in-process store: the simple reference model of the Store contract, and the store of
// eager mode. Not shared between processes; lost when the process exits.
#pragma once

#include <memory>
#include <string_view>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct MemoryStoreOptions {
  std::size_t max_body_bytes = 1 << 20;  // TooLarge above it. Default 1 MiB.
  Millis dead_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Checks a "memory" or "memory:" URL (the memory store takes no path). Opens nothing.
// Errors: InvalidArgument for anything after the colon.
Status check_memory_url(std::string_view url);

std::unique_ptr<Store> new_memory_store(const MemoryStoreOptions& options = {});

}  // namespace runq
