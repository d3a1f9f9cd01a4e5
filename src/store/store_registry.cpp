// The registered store backends, keyed by URL scheme, and open_store() over them.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "runq/store.hpp"
#include "store/backend.hpp"

#ifdef RUNQ_WITH_REDIS
#define RUNQ_IF_REDIS(x) x
#else
#define RUNQ_IF_REDIS(x)
#endif

// One line per backend, in the order `--help` lists them. Each names the function
// `StoreBackendInfo <name>()` defined by src/store/<x>_store.cpp.
// clang-format off
#define RUNQ_STORE_BACKENDS(X)          \
  X(sqlite_store_backend)               \
  RUNQ_IF_REDIS(X(redis_store_backend)) \
  X(memory_store_backend)               \
  /* one line per backend above this one */
// clang-format on

namespace runq {

#define RUNQ_DECLARE_BACKEND(name) StoreBackendInfo name();
RUNQ_STORE_BACKENDS(RUNQ_DECLARE_BACKEND)
#undef RUNQ_DECLARE_BACKEND

const std::vector<StoreBackendInfo>& store_backends() {
#define RUNQ_LIST_BACKEND(name) name(),
  static const std::vector<StoreBackendInfo> all{RUNQ_STORE_BACKENDS(RUNQ_LIST_BACKEND)};
#undef RUNQ_LIST_BACKEND
  return all;
}

const StoreBackendInfo* find_store_backend(std::string_view url) {
  const std::string_view scheme = url.substr(0, url.find(':'));
  const auto& all = store_backends();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const StoreBackendInfo& b) { return b.scheme == scheme; });
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
