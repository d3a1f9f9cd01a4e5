// placeholder
#include "store/redis_store.hpp"
namespace runq {
Result<RedisStoreOptions> parse_redis_url(std::string_view) { return internal_error("not implemented yet"); }
Result<std::unique_ptr<Store>> new_redis_store(const RedisStoreOptions&) {
  return internal_error("redis store: not implemented yet");
}
}  // namespace runq
