// placeholder
#include "store/sqlite_store.hpp"
namespace runq {
Result<std::unique_ptr<Store>> new_sqlite_store(const SqliteStoreOptions&) {
  return internal_error("sqlite store: not implemented yet");
}
}  // namespace runq
