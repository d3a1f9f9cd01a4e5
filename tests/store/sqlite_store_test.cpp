// Cases specific to the sqlite store; the shared semantics are in tests/conformance/.
#include "store/sqlite_store.hpp"
#include "store/sqlite/schema.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::StatusIs;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;

constexpr Millis kNow = 1'700'000'000'000;

NewTask task(std::string id, std::string body = "{}", Millis eta = 0) {
  NewTask t;
  t.id = std::move(id);
  t.body = std::move(body);
  t.eta = eta;
  return t;
}

ReserveRequest request(int max = 1, Millis now = kNow) {
  ReserveRequest req;
  req.queues = {"default"};
  req.worker_id = "w1";
  req.max = max;
  req.now = now;
  return req;
}

Millis system_now() { return to_millis(std::chrono::system_clock::now().time_since_epoch()); }

double thread_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 +
         usage.ru_stime.tv_usec / 1e3;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open(SqliteStoreOptions options = {}) {
    options.path = path_;
    Result<std::unique_ptr<Store>> store = new_sqlite_store(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  runq::testing::TempDir dir_;
  std::string path_ = dir_.file("runq.db");
};

TEST_F(SqliteStoreTest, DatabaseIsInWalMode) {
  auto store = open();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  EXPECT_EQ(mode, "wal");
}

TEST_F(SqliteStoreTest, MissingDirectoryGivesOneClearError) {
  SqliteStoreOptions options;
  options.path = dir_.file("no/such/dir/runq.db");

  Result<std::unique_ptr<Store>> store = new_sqlite_store(options);

  EXPECT_THAT(store, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(store.status().message(),
            "opening sqlite database '" + options.path +
                "': unable to open database file (does the directory exist and is it writable?)");
}

// Opens a store in a directory nobody may write to and returns its status code. Root ignores
// directory permissions, so as root the attempt runs in a child that drops to user nobody.
StatusCode open_in_read_only_dir(const std::string& dir, std::string* message) {
  chmod(dir.c_str(), 0755);
  const std::string ro = dir + "/ro";
  mkdir(ro.c_str(), 0555);
  SqliteStoreOptions options;
  options.path = ro + "/runq.db";
  if (geteuid() != 0) {
    Result<std::unique_ptr<Store>> store = new_sqlite_store(options);
    *message = store.status().message();
    return store.status().code();
  }
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    Result<std::unique_ptr<Store>> store = new_sqlite_store(options);
    const bool clear = store.status().message().find("'" + options.path + "'") != std::string::npos;
    _exit(clear ? static_cast<int>(store.status().code()) : 101);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  *message = "(checked in a child running as nobody)";
  return static_cast<StatusCode>(WIFEXITED(status) ? WEXITSTATUS(status) : 102);
}

TEST_F(SqliteStoreTest, ReadOnlyDirectoryGivesFailedPrecondition) {
  std::string message;

  const StatusCode code = open_in_read_only_dir(dir_.path(), &message);

  EXPECT_EQ(code, StatusCode::kFailedPrecondition) << message;
}

TEST_F(SqliteStoreTest, FileThatIsNotADatabaseGivesDataLoss) {
  std::ofstream(path_) << std::string(4096, 'x');
  SqliteStoreOptions options;
  options.path = path_;

  Result<std::unique_ptr<Store>> store = new_sqlite_store(options);

  EXPECT_THAT(store, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
}

TEST_F(SqliteStoreTest, OversizedBodyIsRejectedAndNothingIsAdded) {
  SqliteStoreOptions options;
  options.max_body_bytes = 10;
  auto store = open(options);
  const std::vector<NewTask> batch = {task("small", "{}"), task("big", std::string(11, 'x'))};

  Status s = store->enqueue(batch, kNow);

  EXPECT_THAT(s, StatusIs(StatusCode::kTooLarge));
  EXPECT_EQ(s.message(),
            "enqueueing task 'big': the body is 11 bytes, over the limit of 10 bytes "
            "(max_body_bytes)");
  EXPECT_THAT(store->get_task("small", kNow), StatusIs(StatusCode::kNotFound));
}

TEST_F(SqliteStoreTest, MalformedBodyIsStoredAndReturnedByteForByte) {
  auto store = open();
  const std::string body("{not json\0\xff\xfe trailing", 22);
  const std::vector<NewTask> batch = {task("odd", body)};

  ASSERT_THAT(store->enqueue(batch, kNow), IsOk());
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store->reserve(request()));
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskInfo info, store->get_task("odd", kNow));

  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(info.body, body);
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileSeeEachOthersTasks) {
  auto producer = open();
  auto worker = open();
  const std::vector<NewTask> batch = {task("a")};

  ASSERT_THAT(producer->enqueue(batch, kNow), IsOk());
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, worker->reserve(request()));
  ASSERT_EQ(got.size(), 1u);
  Settlement ack;
  ack.id = "a";
  ack.token = got[0].token;
  ack.result = R"({"value":1})";
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<bool> applied, producer->settle({&ack, 1}, kNow));

  EXPECT_THAT(applied, ::testing::ElementsAre(true));
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskInfo info, worker->get_task("a", kNow));
  EXPECT_EQ(info.state, TaskState::kSuccess);
  EXPECT_EQ(info.result, R"({"value":1})");
}

TEST_F(SqliteStoreTest, TasksSurviveClosingAndReopening) {
  const std::vector<NewTask> batch = {task("kept")};
  ASSERT_THAT(open()->enqueue(batch, kNow), IsOk());

  auto reopened = open();

  RUNQ_ASSERT_OK_AND_ASSIGN(TaskInfo info, reopened->get_task("kept", kNow));
  EXPECT_EQ(info.state, TaskState::kPending);
}

TEST_F(SqliteStoreTest, TokenGrowsAcrossReenqueueOfAnAckedId) {
  auto store = open();
  const std::vector<NewTask> batch = {task("again")};
  ASSERT_THAT(store->enqueue(batch, kNow), IsOk());
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> first, store->reserve(request()));
  ASSERT_EQ(first.size(), 1u);
  Settlement ack;
  ack.id = "again";
  ack.token = first[0].token;
  ack.result_ttl = 1000;
  ASSERT_THAT(store->settle({&ack, 1}, kNow), IsOk());

  ASSERT_THAT(store->enqueue(batch, kNow + 2000), IsOk());  // the record expired: id is free
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> second, store->reserve(request(1, kNow + 2000)));

  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0].token, first[0].token);
}

// A file written by a version-1 runq (no revokes or listing table) is upgraded in place when
// opened: its tasks stay, and revoke works on them.
TEST_F(SqliteStoreTest, Version1FileIsUpgradedOnOpen) {
  {
    auto store = open();
    const std::vector<NewTask> batch = {task("queued"), task("running")};
    ASSERT_THAT(store->enqueue(batch, kNow), IsOk());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE revokes; DROP TABLE listing; DROP TABLE unique_keys; "
                         "PRAGMA user_version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto store = open();
  ASSERT_NE(store, nullptr);
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store->reserve(request()));
  ASSERT_EQ(got.size(), 1u);
  const std::string running = got[0].id;
  const std::string queued = running == "queued" ? "running" : "queued";
  Revocation r;
  r.id = running;
  r.terminate = true;
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskState held, store->revoke(r, kNow));
  EXPECT_EQ(held, TaskState::kReserved);
  r.id = queued;
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskState revoked, store->revoke(r, kNow));
  EXPECT_EQ(revoked, TaskState::kRevoked);
  // The listing table exists again (empty: tasks of the old file are not listed).
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskPage page, store->list_tasks({}, "", 10, kNow));
  EXPECT_TRUE(page.tasks.empty());
  // ... and so does unique_keys (version 8).
  NewTask unique = task("unique");
  unique.unique.key = "k";
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<std::string> holders,
                            store->enqueue_unique({&unique, 1}, kNow));
  EXPECT_EQ(holders, std::vector<std::string>{""});

  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  // schema 9: revokes (2), listing (3), queue_controls (5), worker_activity (6), workflows (7),
  // unique_keys (8), task_limits, rate_buckets and concurrency_slots (9)
  EXPECT_EQ(sqlite3_column_int(stmt, 0), sqlite::kSchemaVersion);
  EXPECT_EQ(sqlite::kSchemaVersion, 9);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Drops the tables newer than `version` from the file at `path` and sets its user_version, as
// a runq of that version left it.
void downgrade(const std::string& path, int version) {
  std::string sql;
  if (version < 9)
    sql +=
        "DROP TABLE task_limits; DROP TABLE concurrency_slots; "
        "DROP TABLE rate_buckets; ";
  if (version < 8) sql += "DROP TABLE unique_keys; ";
  sql += "PRAGMA user_version = " + std::to_string(version);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// One integer read from the file at `path` (-1 when the query fails).
std::int64_t read_int(const std::string& path, const char* query) {
  sqlite3* db = nullptr;
  std::int64_t out = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, query, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      out = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

// A unique task of the default queue that runs at most one at a time per concurrency key `k`.
NewTask unique_keyed(std::string id, std::string key) {
  NewTask t = task(std::move(id));
  t.unique.key = std::move(key);
  t.limits.concurrency_key = "k";
  t.limits.max_concurrency = 1;
  return t;
}

// Files of version 7 (before unique jobs) and 8 (before rate limits and per-key concurrency)
// are upgraded in place when opened: their tasks stay, and both features work on them.
TEST_F(SqliteStoreTest, Version7And8FilesAreUpgradedOnOpen) {
  for (int version : {7, 8}) {
    SCOPED_TRACE("version " + std::to_string(version));
    path_ = dir_.file("v" + std::to_string(version) + ".db");
    {
      auto store = open();
      ASSERT_NE(store, nullptr);
      ASSERT_THAT(store->enqueue(std::vector<NewTask>{task("old")}, kNow), IsOk());
    }
    downgrade(path_, version);
    ASSERT_EQ(read_int(path_, "PRAGMA user_version"), version);

    auto store = open();
    ASSERT_NE(store, nullptr);
    RUNQ_ASSERT_OK_AND_ASSIGN(
        std::vector<std::string> holders,
        store->enqueue_unique(std::vector{unique_keyed("a", "ua"), unique_keyed("b", "ub"),
                                          unique_keyed("dup", "ua")},
                              kNow));
    EXPECT_EQ(holders, (std::vector<std::string>{"", "", "a"}));
    RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store->reserve(request(10)));
    ASSERT_EQ(got.size(), 2u);  // old, and a; b waits for a's slot
    EXPECT_EQ(got[0].id, "old");
    EXPECT_EQ(got[1].id, "a");
    RUNQ_ASSERT_OK_AND_ASSIGN(TaskInfo b, store->get_task("b", kNow));
    EXPECT_EQ(b.state, TaskState::kScheduled);
    EXPECT_EQ(read_int(path_, "PRAGMA user_version"), sqlite::kSchemaVersion);
  }
}

// Every way a unique task with limits leaves the store (ack, revoke, purge) takes its
// unique_keys and task_limits rows with it (purged ones at the next cleanup), and no
// concurrency slot stays held.
TEST_F(SqliteStoreTest, AckRevokeAndPurgeLeaveNoUniqueOrLimitRows) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::vector<NewTask> batch;
  for (std::string id : {"a", "b", "c", "d"}) {
    batch.push_back(unique_keyed(id, "u-" + id));
    batch.back().limits.rate_key = "r";
    batch.back().limits.rate_count = 1000;
    batch.back().limits.rate_period_ms = 1000;
  }
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<std::string> holders, store->enqueue_unique(batch, kNow));
  EXPECT_EQ(holders, std::vector<std::string>(4));
  ASSERT_EQ(read_int(path_, "SELECT COUNT(*) FROM unique_keys"), 4);
  ASSERT_EQ(read_int(path_, "SELECT COUNT(*) FROM task_limits"), 4);
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store->reserve(request(10)));
  ASSERT_EQ(got.size(), 1u);  // a; the others wait for its slot
  ASSERT_EQ(got[0].id, "a");

  Revocation revoke;
  revoke.id = "b";
  RUNQ_ASSERT_OK_AND_ASSIGN(TaskState revoked, store->revoke(revoke, kNow));
  EXPECT_EQ(revoked, TaskState::kRevoked);
  RUNQ_ASSERT_OK_AND_ASSIGN(std::int64_t purged, store->purge_queue("default"));
  EXPECT_EQ(purged, 2);
  Settlement ack;
  ack.id = "a";
  ack.token = got[0].token;
  ack.result_ttl = 1000;
  ASSERT_THAT(store->settle({&ack, 1}, kNow), IsOk());
  ASSERT_THAT(store->cleanup(kNow), IsOk());

  EXPECT_EQ(read_int(path_, "SELECT COUNT(*) FROM unique_keys"), 0);
  EXPECT_EQ(read_int(path_, "SELECT COUNT(*) FROM task_limits"), 0);
  EXPECT_EQ(read_int(path_, "SELECT COALESCE(SUM(held), 0) FROM concurrency_slots"), 0);
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  open();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteStoreOptions options;
  options.path = path_;

  Result<std::unique_ptr<Store>> store = new_sqlite_store(options);

  EXPECT_THAT(store, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
}

TEST_F(SqliteStoreTest, WaitForWorkWakesOnEnqueueThroughAnotherStore) {
  auto waiter = open();
  auto producer = open();
  const std::vector<NewTask> batch = {task("wake")};

  auto waiting = std::async(std::launch::async, [&] {
    const auto start = SteadyClock::now();
    Status s = waiter->wait_for_work({"default"}, 30'000);
    return std::make_pair(s, SteadyClock::now() - start);
  });
  ASSERT_THAT(producer->enqueue(batch, kNow), IsOk());

  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [status, waited] = waiting.get();
  EXPECT_THAT(status, IsOk());
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(SqliteStoreTest, WaitForWorkWakesEveryWaitingThread) {
  auto waiters = open();
  auto producer = open();
  constexpr int kWaiters = 4;
  std::atomic<int> started{0};
  std::vector<std::future<Status>> waiting;
  for (int i = 0; i < kWaiters; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      ++started;
      return waiters->wait_for_work({"default"}, 30'000);
    }));
  }
  ASSERT_TRUE(runq::testing::wait_until([&] { return started.load() == kWaiters; }));
  const std::vector<NewTask> batch = {task("for-all")};

  ASSERT_THAT(producer->enqueue(batch, kNow), IsOk());

  for (auto& w : waiting) {
    ASSERT_EQ(w.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_THAT(w.get(), IsOk());
  }
}

TEST_F(SqliteStoreTest, ThreadsReservingTogetherGetEachTaskOnce) {
  auto store = open();
  constexpr int kTasks = 400;
  std::vector<NewTask> batch;
  for (int i = 0; i < kTasks; ++i) batch.push_back(task("t" + std::to_string(i)));
  ASSERT_THAT(store->enqueue(batch, kNow), IsOk());
  std::mutex mu;
  std::multiset<std::string> acked;

  std::vector<std::future<Status>> workers;
  for (int w = 0; w < 4; ++w) {
    workers.push_back(std::async(std::launch::async, [&]() -> Status {
      for (int round = 0; round < kTasks; ++round) {
        RUNQ_ASSIGN_OR_RETURN(std::vector<Delivery> got, store->reserve(request(7)));
        if (got.empty()) return ok_status();
        std::vector<Settlement> acks(got.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
          acks[i].id = got[i].id;
          acks[i].token = got[i].token;
        }
        RUNQ_ASSIGN_OR_RETURN(std::vector<bool> applied, store->settle(acks, kNow));
        std::lock_guard<std::mutex> lock(mu);
        for (std::size_t i = 0; i < got.size(); ++i) {
          if (applied[i]) acked.insert(got[i].id);
        }
      }
      return internal_error("queue never drained");
    }));
  }
  for (auto& w : workers) EXPECT_THAT(w.get(), IsOk());

  EXPECT_EQ(acked.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(acked.begin(), acked.end()).size(),
            static_cast<std::size_t>(kTasks));
}

TEST_F(SqliteStoreTest, WaitForWorkTimesOutWhenNothingHappens) {
  auto store = open();
  const auto start = SteadyClock::now();
  const double cpu_before = thread_cpu_ms();

  Status s = store->wait_for_work({"default"}, 300);

  const auto waited = SteadyClock::now() - start;
  EXPECT_THAT(s, IsOk());
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(3));
  EXPECT_LT(thread_cpu_ms() - cpu_before, 50.0) << "waiting must not spin";
}

TEST_F(SqliteStoreTest, WaitForWorkWakesWhenAScheduledTaskComesDue) {
  auto store = open();
  const Millis eta = system_now() + 200;
  const std::vector<NewTask> batch = {task("later", "{}", eta)};
  ASSERT_THAT(store->enqueue(batch, system_now()), IsOk());
  const auto start = SteadyClock::now();

  Status s = store->wait_for_work({"default"}, 30'000);

  EXPECT_THAT(s, IsOk());
  EXPECT_GE(system_now(), eta);
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
}

TEST_F(SqliteStoreTest, WaitTaskWakesWhenAnotherStoreSettles) {
  auto client = open();
  auto worker = open();
  const std::vector<NewTask> batch = {task("job")};
  ASSERT_THAT(client->enqueue(batch, kNow), IsOk());
  RUNQ_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, worker->reserve(request()));
  ASSERT_EQ(got.size(), 1u);

  auto waiting = std::async(std::launch::async, [&] { return client->wait_task("job", 30'000); });
  Settlement ack;
  ack.id = "job";
  ack.token = got[0].token;
  ack.result = R"({"value":2})";
  ASSERT_THAT(worker->settle({&ack, 1}, kNow), IsOk());

  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Result<TaskInfo> info = waiting.get();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->state, TaskState::kSuccess);
}

TEST_F(SqliteStoreTest, WaitTaskTimesOutWithDeadlineExceeded) {
  auto store = open();
  const std::vector<NewTask> batch = {task("slow")};
  ASSERT_THAT(store->enqueue(batch, kNow), IsOk());

  EXPECT_THAT(store->wait_task("slow", 100), StatusIs(StatusCode::kDeadlineExceeded));
}

TEST_F(SqliteStoreTest, ConcurrentThreadsShareOneStore) {
  auto store = open();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::future<Status>> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.push_back(std::async(std::launch::async, [&store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::vector<NewTask> one = {task("t" + std::to_string(t) + "-" + std::to_string(i))};
        RUNQ_RETURN_IF_ERROR(store->enqueue(one, kNow));
      }
      return ok_status();
    }));
  }
  for (auto& p : producers) EXPECT_THAT(p.get(), IsOk());

  RUNQ_ASSERT_OK_AND_ASSIGN(StoreStats stats, store->stats(kNow));

  ASSERT_EQ(stats.queues.size(), 1u);
  EXPECT_EQ(stats.queues[0].pending, kThreads * kPerThread);
}

}  // namespace
}  // namespace runq
