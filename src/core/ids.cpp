#include "core/ids.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>

#include "core/fork_generation.hpp"

namespace runq::internal {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
         static_cast<std::uint64_t>(::getpid()) << 16;
}

// A forked child (the process pool's children) must not go on with its parent's generator
// state, or two children would make the same ids: it reseeds after a fork.
std::mt19937_64& rng() {
  struct State {
    std::mt19937_64 gen{fresh_seed()};
    std::uint32_t forks = fork_generation();
  };
  thread_local State s;
  const std::uint32_t forks = fork_generation();
  if (s.forks != forks) {
    s.gen.seed(fresh_seed());
    s.forks = forks;
  }
  return s.gen;
}

}  // namespace

std::string new_task_id() {
  std::string id(26, '0');
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (int i = 9; i >= 0; --i, ms >>= 5) id[i] = kAlphabet[ms & 31];
  std::uint64_t r1 = rng()(), r2 = rng()();
  for (int i = 10; i < 26; ++i) {
    std::uint64_t& r = i < 18 ? r1 : r2;
    id[i] = kAlphabet[r & 31];
    r >>= 5;
  }
  return id;
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string new_worker_id() {
  return host_name() + ":" + std::to_string(::getpid()) + ":" + new_task_id().substr(20);
}

}  // namespace runq::internal
