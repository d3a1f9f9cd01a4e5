// SQLite on a full disk: a private tmpfs of a few hundred KiB in a mount namespace of this
// test process (needs root: unshare(CLONE_NEWNS) and mount(2); skipped otherwise outside CI).
// Enqueue must fail with a clear error, every task accepted before must survive, and once
// there is space again a worker runs them all.
#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runq/runq.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class SqliteDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The namespace keeps the mount private to this process: nothing else sees it, and it
    // goes away with the process even if the test aborts.
    std::string why;
    if (::unshare(CLONE_NEWNS) != 0) {
      why = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
               ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=256k") != 0) {
      why = std::string("mount: ") + std::strerror(errno);
    }
    if (why.empty()) return;
    if (testing::running_under_ci()) FAIL() << "a private tmpfs is required under CI: " << why;
    GTEST_SKIP() << "cannot mount a private tmpfs (needs root): " << why;
  }
  void TearDown() override { ::umount2(dir_.path().c_str(), MNT_DETACH); }

  bool grow_disk() {
    return ::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT, "size=16m") == 0;
  }

  testing::TempDir dir_;
};

TEST_F(SqliteDiskFullTest, EnqueueFailsClearlyAndNoAcceptedTaskIsLost) {
  App app(AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")});
  auto echo = app.task("echo", [](std::string s) { return s.size(); });
  const std::vector<std::tuple<std::string>> batch(20, {std::string(1000, 'x')});
  std::vector<std::string> accepted;
  Status error;

  // Bounded: 256 KiB hold far fewer than 200 batches of 20 KB.
  for (int i = 0; i < 200 && error.ok(); ++i) {
    try {
      for (const auto& r : echo.delay_many(batch)) accepted.push_back(r.id());
    } catch (const Error& e) {
      error = e.status();
    }
  }

  ASSERT_EQ(error.code(), StatusCode::kResourceExhausted) << error.to_string();
  EXPECT_THAT(error.message(), HasSubstr("full")) << error.to_string();
  ASSERT_GT(accepted.size(), 0u);
  for (const std::string& id : accepted) {
    Result<TaskStatus> st = read_task_status(*app.store(), id);
    ASSERT_TRUE(st.ok()) << id << ": " << st.status().to_string();
    EXPECT_EQ(st->state, TaskState::kPending) << id;
  }

  ASSERT_TRUE(grow_disk()) << std::strerror(errno);
  auto last = echo.delay("after");
  Worker worker(app, WorkerOptions{.concurrency = 2, .max_tasks = accepted.size() + 1});
  ASSERT_TRUE(worker.run().ok());
  for (const std::string& id : accepted) {
    Result<TaskStatus> st = read_task_status(*app.store(), id);
    ASSERT_TRUE(st.ok()) << id;
    EXPECT_EQ(st->state, TaskState::kSuccess) << id;
  }
  EXPECT_EQ(last.get(5s), 5u);
}

}  // namespace
}  // namespace runq
