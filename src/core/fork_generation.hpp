// How many times this process's lineage forked since the first call (pthread_atfork): a
// value that differs from the one seen earlier means the caller now runs in a forked child
// (the process pool's children), where state opened before the fork belongs to the parent.
// Cheap (an atomic load, no system call), so it can be checked on every use of a connection.
//
// Thread safety: any thread. The counter starts counting at the first call: take the value
// when the state to guard is created.
#pragma once

#include <cstdint>

namespace runq::internal {

std::uint32_t fork_generation();

}  // namespace runq::internal
