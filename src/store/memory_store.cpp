// placeholder
#include "store/memory_store.hpp"
namespace runq {
std::unique_ptr<Store> new_memory_store(const MemoryStoreOptions&) { return nullptr; }
}  // namespace runq
