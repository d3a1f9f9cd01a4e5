// How tests make a fresh, empty store of each registered backend (src/store/store_registry.cpp),
// keyed by URL scheme. Both conformance suites iterate the registry and look their backend up
// here, so a backend registered without a fixture fails those suites instead of going untested.
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
  // Why the backend's server cannot run here, or empty when it can. nullptr: always available.
  std::function<std::string()> unavailable;
  // Opens `n` Store objects over one new, empty store: n views of the same data, as n processes
  // would have (a backend that cannot be shared between objects returns one object n times).
  // The objects own whatever the store needs (temp dir, key prefix) and free it when the last
  // one is destroyed.
  std::function<Result<std::vector<std::shared_ptr<Store>>>(int n)> open;
};

// The fixture for `scheme`, or nullptr when tests/support/store_fixtures.cpp has none.
const StoreFixture* store_fixture(std::string_view scheme);

// A new, empty store of the backend registered for `scheme` (one object of open(1)).
// Errors: FailedPrecondition when the scheme has no fixture; whatever opening returns.
Result<std::unique_ptr<Store>> fresh_store(std::string_view scheme);

}  // namespace runq::testing
