// Resident memory and open file descriptors of a process, from /proc (Linux).
#pragma once

#include <cstdint>

namespace runq::chaos {

// VmRSS of `pid` in KiB; 0 if the process is gone or pid <= 0.
std::int64_t rss_kib(int pid);
// Entries of /proc/<pid>/fd; 0 if the process is gone or pid <= 0.
std::int64_t open_fds(int pid);

}  // namespace runq::chaos
