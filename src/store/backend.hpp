// What a store backend gives the rest of runq, and what every backend goes through.
//
// A backend is one file, src/store/<x>_store.cpp, that defines
//   StoreBackendInfo <x>_store_backend();
// and one line in CMakeLists.txt, `runq_store_backend(x)`, from which the build generates the
// registry's list (store_registry.cpp). open_store(), the `--help` text and the error for an
// unknown scheme all read that list; both conformance suites read it too, and open each
// backend's stores from its `test_fixture` (tests/support/store_fixtures.cpp fills it in). See
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

// How tests get a fresh, empty store of a backend: declared by the backend, read by
// tests/support/store_fixtures.cpp for both conformance suites. A backend whose `url` is empty,
// or whose `server` is a kind the tests cannot start, fails those suites.
struct StoreTestFixture {
  // The URL of a fresh, empty store, with placeholders the tests fill in:
  //   {dir}   a new temp directory for each fresh store (removed when its last object goes);
  //   {port}  the port of the test server of kind `server` (one server per test binary);
  //   {n}     a number unique to each fresh store in the test binary (e.g. a key prefix).
  // Examples: "sqlite:{dir}/runq.db", "redis://127.0.0.1:{port}/0?prefix=t{n}:".
  std::string_view url;
  // "" = no server; otherwise the kind of server the tests start for it ("redis-server"). When
  // that server cannot run here, the suites skip the backend, or fail under CI=true.
  std::string_view server;
  // True when two open_store(url) calls of one URL see the same data (files, servers); false
  // for in-process stores, whose tests then share one object where several are asked for.
  bool shares_by_url = true;
};

struct StoreBackendInfo {
  // The URL scheme without its colon ("sqlite"). A URL belongs to this backend when it is the
  // scheme alone or starts with "<scheme>:".
  std::string_view scheme;
  // The URL forms, as shown by `--help` and in errors: "redis://[:password@]host[:port][/db]".
  std::string_view url_help;
  // Opens a store from a URL of this scheme. The result must come from checked_store().
  // Errors: InvalidArgument (malformed URL), and whatever the backend's factory returns.
  Result<std::unique_ptr<Store>> (*open)(std::string_view url) = nullptr;
  // How the conformance suites make a fresh store of this backend (see StoreTestFixture).
  StoreTestFixture test_fixture;
  // Another scheme that opens this backend too ("postgresql" for "postgres"), or empty.
  std::string_view alias;
};

// Every registered backend, in the order of the runq_store_backend() lines of CMakeLists.txt
// (the order `--help` lists them).
const std::vector<StoreBackendInfo>& store_backends();

// The backend whose scheme `url` uses, or nullptr.
const StoreBackendInfo* find_store_backend(std::string_view url);

// "sqlite:PATH, redis://[:password@]host[:port][/db] or memory:", from store_backends().
std::string store_url_forms();

// Wraps a backend in the argument checks of the Store contract (include/runq/store.hpp, the
// `Errors: InvalidArgument` and `TooLarge` cases): a call that breaks a rule returns
// that code and never reaches `backend`, so backends implement only valid calls. Every
// backend factory returns its store through this, which is the one place those rules live.
// `max_body_bytes` is the backend's limit on a task body (enqueue, claim_tick, retry body).
std::unique_ptr<Store> checked_store(std::unique_ptr<Store> backend, std::size_t max_body_bytes);

}  // namespace runq
