// The registered store backends, keyed by URL scheme, and open_store() over them.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "runq/store.hpp"
#include "store/backend.hpp"

namespace runq {

// store_backends.inc is generated from the runq_store_backend() calls of CMakeLists.txt
// (cmake/RunqStoreBackends.cmake), in their order, which is the order `--help` lists them: one
// RUNQ_STORE_BACKEND(<x>_store_backend) line per backend, naming the function defined by
// src/store/<x>_store.cpp. A backend switched off by its option (IF) has no line.
#define RUNQ_STORE_BACKEND(name) StoreBackendInfo name();
#include "store_backends.inc"
#undef RUNQ_STORE_BACKEND

const std::vector<StoreBackendInfo>& store_backends() {
#define RUNQ_STORE_BACKEND(name) name(),
  static const std::vector<StoreBackendInfo> all{
#include "store_backends.inc"
  };
#undef RUNQ_STORE_BACKEND
  return all;
}

const StoreBackendInfo* find_store_backend(std::string_view url) {
  const std::string_view scheme = url.substr(0, url.find(':'));
  const auto& all = store_backends();
  auto it = std::find_if(all.begin(), all.end(), [&](const StoreBackendInfo& b) {
    return b.scheme == scheme || (!b.alias.empty() && b.alias == scheme);
  });
  return it == all.end() ? nullptr : &*it;
}

std::string store_url_forms() {
  const auto& all = store_backends();
  std::string out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) out += i + 1 == all.size() ? " or " : ", ";
    out += all[i].url_help;
  }
  return out;
}

std::string default_store_url() {
  const char* env = std::getenv("RUNQ_STORE");
  return env && *env ? std::string(env) : std::string("sqlite:runq.db");
}

Result<std::unique_ptr<Store>> open_store(std::string_view url) {
  const StoreBackendInfo* backend = find_store_backend(url);
  if (backend == nullptr) {
    return invalid_argument_error("opening store '" + std::string(url) +
                                  "': unknown scheme (expected " + store_url_forms() + ")");
  }
  return backend->open(url);
}

}  // namespace runq
