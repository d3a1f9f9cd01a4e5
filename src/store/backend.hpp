// What a store backend gives the rest of runq, and what every backend goes through.
//
// A backend is one file, src/store/<x>_store.cpp, that defines
//   StoreBackendInfo <x>_store_backend();
// and one line in the list of store_registry.cpp. open_store(), the `--help` text and the
// error for an unknown scheme all read that list; the conformance suites read it too and fail
// for a backend with no test fixture (tests/support/store_fixtures.cpp). See
// docs/architecture.md, "Adding a store backend".
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq {

struct StoreBackendInfo {
  // The URL scheme without its colon ("sqlite"). A URL belongs to this backend when it is the
  // scheme alone or starts with "<scheme>:".
  std::string_view scheme;
  // The URL forms, as shown by `--help` and in errors: "redis://[:password@]host[:port][/db]".
  std::string_view url_help;
  // Opens a store from a URL of this scheme. The result must come from checked_store().
  // Errors: InvalidArgument (malformed URL), and whatever the backend's factory returns.
  Result<std::unique_ptr<Store>> (*open)(std::string_view url) = nullptr;
};

// Every registered backend, in the order of store_registry.cpp (the order `--help` lists them).
const std::vector<StoreBackendInfo>& store_backends();

// The backend whose scheme `url` uses, or nullptr.
const StoreBackendInfo* find_store_backend(std::string_view url);

// "sqlite:PATH, redis://[:password@]host[:port][/db] or memory:", from store_backends().
std::string store_url_forms();

// Wraps a backend in the argument checks of the Store contract (include/runq/store.hpp, the
// `Errors: InvalidArgument` and `ResourceExhausted` cases): a call that breaks a rule returns
// that code and never reaches `backend`, so backends implement only valid calls. Every
// backend factory returns its store through this, which is the one place those rules live.
// `max_body_bytes` is the backend's limit on a task body (enqueue, claim_tick, retry body).
std::unique_ptr<Store> checked_store(std::unique_ptr<Store> backend, std::size_t max_body_bytes);

}  // namespace runq
