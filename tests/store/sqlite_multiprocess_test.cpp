// Several processes on one sqlite file: concurrent workers never share a lease and lose nothing,
// and a process killed in the middle of a batch enqueue leaves all of the batch or none of it.
//
// Children are forked while the parent holds no open connection (SQLite state must not cross a
// fork), do their work with their own store, and report through files and their exit code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "store/sqlite_store.hpp"
#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using ::runq::testing::IsOk;

constexpr Millis kNow = 1'700'000'000'000;
constexpr Millis kLongLease = 600'000;

Result<std::unique_ptr<Store>> open_at(const std::string& path) {
  SqliteStoreOptions options;
  options.path = path;
  options.busy_timeout_ms = 30'000;
  return new_sqlite_store(options);
}

std::vector<NewTask> numbered_tasks(const std::string& prefix, int n, std::size_t body_bytes) {
  std::vector<NewTask> tasks(n);
  for (int i = 0; i < n; ++i) {
    tasks[i].id = prefix + std::to_string(i);
    tasks[i].body = std::string(body_bytes, 'b');
  }
  return tasks;
}

// One worker process: reserves until the queue stays empty, releasing every delivery whose
// token is divisible by 7 and acking the others. Logs "id token outcome applied" per line.
// Returns the exit code: 0 on success.
int run_worker(const std::string& db, const std::string& log_path, int worker) {
  Result<std::unique_ptr<Store>> store = open_at(db);
  if (!store.ok()) return 10;
  std::ofstream log(log_path);
  ReserveRequest req;
  req.queues = {"default"};
  req.worker_id = "w" + std::to_string(worker);
  req.max = 16;
  req.lease_ms = kLongLease;
  req.now = kNow;
  for (int round = 0; round < 100'000; ++round) {
    Result<std::vector<Delivery>> got = (*store)->reserve(req);
    if (!got.ok()) return 11;
    if (got->empty()) return 0;
    std::vector<Settlement> settlements;
    for (const Delivery& d : *got) {
      Settlement& s = settlements.emplace_back();
      s.id = d.id;
      s.token = d.token;
      s.outcome = d.token % 7 == 0 ? Outcome::kRelease : Outcome::kAck;
    }
    Result<std::vector<bool>> applied = (*store)->settle(settlements, kNow);
    if (!applied.ok()) return 12;
    for (std::size_t i = 0; i < settlements.size(); ++i) {
      const bool ack = settlements[i].outcome == Outcome::kAck;
      log << settlements[i].id << ' ' << settlements[i].token << ' ' << (ack ? "ack" : "release")
          << ' ' << (*applied)[i] << '\n';
    }
  }
  return 13;
}

int exit_code_of(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SqliteMultiprocessTest, ConcurrentWorkersNeverShareALeaseAndLoseNothing) {
  runq::testing::TempDir dir;
  const std::string db = dir.file("runq.db");
  constexpr int kTasks = 1500;
  constexpr int kWorkers = 4;
  {
    RUNQ_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, open_at(db));
    ASSERT_THAT(store->enqueue(numbered_tasks("t", kTasks, 64), kNow), IsOk());
  }

  std::vector<pid_t> children;
  for (int w = 0; w < kWorkers; ++w) {
    const pid_t pid = fork();
    if (pid == 0) _exit(run_worker(db, dir.file("log" + std::to_string(w)), w));
    children.push_back(pid);
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);

  std::map<std::string, int> acks, releases, deliveries;
  std::set<std::uint64_t> tokens;
  for (int w = 0; w < kWorkers; ++w) {
    std::ifstream log(dir.file("log" + std::to_string(w)));
    std::string id, outcome;
    std::uint64_t token = 0;
    int applied = 0;
    int lines = 0;
    while (log >> id >> token >> outcome >> applied && ++lines) {
      EXPECT_EQ(applied, 1) << id << " token " << token << " was refused as stale";
      EXPECT_TRUE(tokens.insert(token).second) << "token " << token << " handed out twice";
      ++deliveries[id];
      ++(outcome == "ack" ? acks : releases)[id];
    }
    ::testing::Test::RecordProperty("deliveries_of_worker_" + std::to_string(w), lines);
  }
  EXPECT_EQ(acks.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [id, n] : acks) EXPECT_EQ(n, 1) << id;
  // With leases that never lapse, a task comes back only after it was released.
  for (const auto& [id, n] : deliveries) EXPECT_EQ(n, releases[id] + 1) << id;
  RUNQ_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, open_at(db));
  RUNQ_ASSERT_OK_AND_ASSIGN(StoreStats stats, store->stats(kNow));
  EXPECT_TRUE(stats.queues.empty());
  EXPECT_EQ(stats.completed, static_cast<std::uint64_t>(kTasks));
  EXPECT_EQ(stats.duplicates, 0u);
}

off_t file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

TEST(SqliteMultiprocessTest, KillDuringBatchEnqueueLeavesAllOrNothing) {
  runq::testing::TempDir dir;
  const std::string db = dir.file("runq.db");
  constexpr int kTasks = 60'000;
  { RUNQ_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, open_at(db)); }
  const off_t wal_before = file_size(db + "-wal");

  const pid_t pid = fork();
  if (pid == 0) {
    Result<std::unique_ptr<Store>> store = open_at(db);
    if (!store.ok()) _exit(10);
    const std::vector<NewTask> batch = numbered_tasks("big", kTasks, 400);
    Status s = (*store)->enqueue(batch, kNow);
    _exit(s.ok() ? 0 : 11);
  }
  // The batch spills pages to the -wal file long before it commits; kill once it does.
  const bool spilling = runq::testing::wait_until(
      [&] { return file_size(db + "-wal") > wal_before + (4 << 20); }, std::chrono::seconds(60));
  kill(pid, SIGKILL);
  const int code = exit_code_of(pid);

  RUNQ_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, open_at(db));
  RUNQ_ASSERT_OK_AND_ASSIGN(StoreStats stats, store->stats(kNow));
  const std::int64_t pending = stats.queues.empty() ? 0 : stats.queues[0].pending;
  ::testing::Test::RecordProperty("pending_after_kill", static_cast<int>(pending));
  EXPECT_TRUE(spilling);
  EXPECT_TRUE(pending == 0 || pending == kTasks) << "pending " << pending << ", exit " << code;
  // The store stays usable after the crash.
  ASSERT_THAT(store->enqueue(numbered_tasks("after", 1, 8), kNow), IsOk());
  ReserveRequest req;
  req.queues = {"default"};
  req.max = kTasks + 1;
  req.now = kNow;
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store->reserve(req));
  EXPECT_EQ(got.size(), static_cast<std::size_t>(pending + 1));
}

}  // namespace
}  // namespace runq

namespace runq {
namespace {

// Processes that open one file at the same moment as others write to it (or create it) all
// succeed: locks taken while opening are retried within the busy timeout instead of failing
// with "database is locked".
TEST(SqliteMultiprocessTest, ProcessesOpeningWhileOthersWriteAllSucceed) {
  testing::TempDir dir;
  const std::string db = dir.file("fresh.db");
  constexpr int kProcs = 8;
  constexpr int kRounds = 20;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      SqliteStoreOptions options;
      options.path = db;
      options.busy_timeout_ms = 10'000;
      // Open, write and close repeatedly: opens race with the other processes' writes.
      for (int round = 0; round < kRounds; ++round) {
        Result<std::unique_ptr<Store>> store = new_sqlite_store(options);
        if (!store.ok()) {
          std::fprintf(stderr, "child %d round %d: %s\n", i, round,
                       store.status().to_string().c_str());
          _exit(10);
        }
        std::vector<NewTask> batch =
            numbered_tasks("p" + std::to_string(i) + "r" + std::to_string(round) + "-", 50, 100);
        if (!(*store)->enqueue(batch, kNow).ok()) _exit(11);
      }
      _exit(0);
    }
    children.push_back(pid);
  }

  int failures = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  EXPECT_EQ(failures, 0);
  Result<std::unique_ptr<Store>> store = open_at(db);
  ASSERT_THAT(store, IsOk());
  auto stats = (*store)->stats(kNow);
  ASSERT_THAT(stats, IsOk());
  ASSERT_EQ(stats->queues.size(), 1u);
  EXPECT_EQ(stats->queues[0].pending, kProcs * kRounds * 50);
}

}  // namespace
}  // namespace runq
