#include "core/ids.hpp"

#include <unistd.h>

#include <chrono>
#include <random>

namespace runq::internal {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<std::uint64_t>(::getpid()) << 16;
  }());
  return gen;
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
