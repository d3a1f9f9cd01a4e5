// The process pool and memory: a task that allocates until its RLIMIT_AS runs out fails with
// std::bad_alloc without taking other tasks down, and --max-memory-per-child replaces a child
// that grew past the limit. RLIMIT_AS and resident-size checks do not work under ASan (its
// shadow memory reserves terabytes of address space): labelled no-asan.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runq/runq.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;

class ProcessPoolMemoryTest : public ::testing::Test {
 protected:
  AppOptions app_options() { return AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}; }
  WorkerOptions pool(int children) {
    WorkerOptions o;
    o.concurrency = children;
    o.pool = WorkerPool::kProcesses;
    return o;
  }
  testing::TempDir dir_;
};

// Where the leaking task keeps its memory, so that the allocation cannot be optimised away.
char* volatile leaked = nullptr;

// Address space in use by this process, from /proc/self/statm (pages → bytes).
std::size_t address_space_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

TEST_F(ProcessPoolMemoryTest, AllocatingPastRlimitAsFailsOnlyThatTask) {
  App app(app_options());
  auto hog = app.task("hog", [] {
    // The limit is set inside the child running the task: 256 MiB above what it uses now.
    rlimit lim{address_space_bytes() + (256u << 20), RLIM_INFINITY};
    lim.rlim_max = lim.rlim_cur;
    if (::setrlimit(RLIMIT_AS, &lim) != 0) throw std::runtime_error("setrlimit failed");
    std::vector<std::unique_ptr<char[]>> chunks;
    for (int i = 0; i < 100'000; ++i) {  // bounded: 100 GiB would be far past the limit
      chunks.emplace_back(new char[1 << 20]);
      std::memset(chunks.back().get(), 1, 1 << 20);
    }
    return static_cast<int>(chunks.size());
  });
  auto add = app.task("add", [](int a, int b) { return a + b; });
  Worker worker(app, pool(1));
  ASSERT_TRUE(worker.start().ok());
  auto r = hog.delay();
  Result<TaskStatus> st = wait_task_status(*app.store(), r.id(), 60'000);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->state, TaskState::kFailure);
  EXPECT_EQ(st->error_type, "std::bad_alloc");
  EXPECT_EQ(add.delay(2, 3).get(20s), 5);  // the pool goes on
  worker.request_stop();
  worker.wait();
}

TEST_F(ProcessPoolMemoryTest, MaxMemoryPerChildReplacesAChildThatGrew) {
  App app(app_options());
  auto leak = app.task("leak", [] {
    leaked = new char[64 << 20];  // leaked on purpose: the child stays big
    std::memset(leaked, 1, 64 << 20);
    return static_cast<int>(::getpid());
  });
  auto pid = app.task("pid", [] { return static_cast<int>(::getpid()); });
  WorkerOptions o = pool(1);
  o.max_memory_per_child = 32u << 20;
  Worker worker(app, o);
  ASSERT_TRUE(worker.start().ok());
  int before = pid.delay().get(20s);
  int leaked_in = leak.delay().get(20s);
  int after = pid.delay().get(20s);
  worker.request_stop();
  worker.wait();
  EXPECT_EQ(before, leaked_in) << "a small child is kept";
  EXPECT_NE(after, leaked_in) << "the child that grew past the limit was not replaced";
}

}  // namespace
}  // namespace runq
