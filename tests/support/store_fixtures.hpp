// How tests make a fresh, empty store of each registered backend (store_backends()), keyed by
// URL scheme. Each backend declares its fixture itself (StoreBackendInfo::test_fixture in
// src/store/backend.hpp): a URL with placeholders and the kind of server it needs. This file
// fills the placeholders and starts the servers by kind, so a backend on a server kind listed
// here needs no test edit. Both conformance suites iterate the registry and look their backend
// up here; a backend whose fixture is empty or names an unknown server kind fails them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::testing {

struct StoreFixture {
  std::string_view scheme;
  // Why the backend's server cannot run here, or empty when it can. nullptr: no server needed.
  std::function<std::string()> unavailable;
  // Opens `n` Store objects over one new, empty store: n views of the same data, as n processes
  // would have (a backend that cannot be shared between objects returns one object n times).
  // The objects own whatever the store needs (temp dir) and free it when the last one is
  // destroyed. Errors: FailedPrecondition when the backend's declared fixture is unusable
  // (empty, unknown server kind or placeholder); Unavailable when its server cannot start;
  // whatever opening the store returns.
  std::function<Result<std::vector<std::shared_ptr<Store>>>(int n)> open;
};

// The fixture of the backend registered for `scheme`, or nullptr when no backend has it.
const StoreFixture* store_fixture(std::string_view scheme);

// A new, empty store of the backend registered for `scheme` (one object of open(1)).
// Errors: FailedPrecondition when the scheme is not registered or its fixture is unusable;
// whatever open() returns.
Result<std::unique_ptr<Store>> fresh_store(std::string_view scheme);

}  // namespace runq::testing
