// The postgres:// store beyond the conformance suites: migrations and the schema option,
// transactional enqueue (C++ and SQL), LISTEN/NOTIFY wake-ups, URL errors, and server-side
// faults (a server killed mid-drain, a connection limit, statement_timeout, a read-only
// server). Every test uses a private PostgreSQL this binary starts (support/postgres_server).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "core/message.hpp"
#include "runq/app.hpp"
#include "runq/postgres.hpp"
#include "runq/store.hpp"
#include "runq/worker.hpp"
#include "support/child_process.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/status_matchers.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using ::runq::testing::IsOk;
using ::runq::testing::PostgresServer;
using ::runq::testing::PostgresServerOptions;

constexpr Millis kNow = 1'700'000'000'000;

// The binary's shared server; each test uses its own schema.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    port_ = ::runq::testing::shared_postgres_port(&why);
    if (port_ == 0) {
      if (::runq::testing::running_under_ci()) FAIL() << "PostgreSQL is required under CI: " << why;
      GTEST_SKIP() << why;
    }
    static int n = 0;
    schema_ = "pt" + std::to_string(++n);
  }
  std::string base() const {
    return "postgresql://runq@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  std::string url(const std::string& extra = "") const {
    return base() + "?schema=" + schema_ + extra;
  }
  std::unique_ptr<Store> open(const std::string& u) {
    auto s = open_store(u);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // An application's own connection.
  PGconn* app_conn() {
    PGconn* c = PQconnectdb(base().c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    return c;
  }
  static std::string exec1(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    std::string out;
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
      out = "-ERROR " + std::string(PQresultErrorMessage(r));
    PQclear(r);
    return out;
  }
  std::string query(const std::string& sql) {
    PGconn* c = app_conn();
    std::string out = exec1(c, sql);
    PQfinish(c);
    return out;
  }
  static ReserveRequest request(std::vector<std::string> queues, int max = 10, Millis now = kNow) {
    ReserveRequest r;
    r.queues = std::move(queues);
    r.worker_id = "w";
    r.max = max;
    r.lease_ms = 30'000;
    r.now = now;
    return r;
  }
  static NewTask task(std::string id, std::string queue = "default") {
    NewTask t;
    t.id = std::move(id);
    t.queue = std::move(queue);
    t.body = "body-" + t.id;
    return t;
  }
  static Millis now_ms() { return to_millis(std::chrono::system_clock::now().time_since_epoch()); }

  int port_ = 0;
  std::string schema_;
};

// ---- migrations and the schema option -----------------------------------------------------

TEST_F(PostgresStoreTest, MigrateCreatesTheSchemaOnceAndRecordsEachVersion) {
  auto first = postgres::migrate(url());
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->from, 0);
  EXPECT_EQ(first->to, postgres::latest_schema_version());
  auto again = postgres::migrate(url());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->from, postgres::latest_schema_version());
  // One row per migration (version numbers may have gaps), the latest among them.
  EXPECT_EQ(
      query("SELECT count(*) = count(DISTINCT version) AND max(version) = " +
            std::to_string(postgres::latest_schema_version()) + " FROM " + schema_ + ".migrations"),
      "t");
}

TEST_F(PostgresStoreTest, ConcurrentFirstOpensMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (open_store(url()).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  // One row per migration (version numbers may have gaps), the latest among them.
  EXPECT_EQ(
      query("SELECT count(*) = count(DISTINCT version) AND max(version) = " +
            std::to_string(postgres::latest_schema_version()) + " FROM " + schema_ + ".migrations"),
      "t");
}

TEST_F(PostgresStoreTest, SchemasKeepStoresApart) {
  auto a = open(url());
  auto b = open(base() + "?schema=" + schema_ + "_other");
  ASSERT_TRUE(a && b);
  ASSERT_THAT(a->enqueue(std::vector<NewTask>{task("only-in-a")}, kNow), IsOk());
  auto from_b = b->reserve(request({"default"}));
  ASSERT_THAT(from_b, IsOk());
  EXPECT_TRUE(from_b->empty());
  auto from_a = a->reserve(request({"default"}));
  ASSERT_THAT(from_a, IsOk());
  ASSERT_EQ(from_a->size(), 1u);
  EXPECT_EQ(query("SELECT to_regclass('public.tasks') IS NULL"), "t") << "nothing in public";
}

TEST_F(PostgresStoreTest, MigrateFalseOnAMissingSchemaSaysToRunRunqMigrate) {
  auto s = open_store(url("&migrate=false"));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_failed_precondition(s.status())) << s.status().to_string();
  EXPECT_NE(s.status().message().find("runq migrate"), std::string::npos) << s.status().message();
  ASSERT_THAT(postgres::migrate(url()), IsOk());
  EXPECT_THAT(open_store(url("&migrate=false")), IsOk());
}

TEST_F(PostgresStoreTest, ASchemaNewerThanThisRunqIsRefused) {
  ASSERT_THAT(postgres::migrate(url()), IsOk());
  query("INSERT INTO " + schema_ + ".migrations (version, name) VALUES (999, 'future')");
  auto s = open_store(url());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_failed_precondition(s.status())) << s.status().to_string();
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
}

TEST_F(PostgresStoreTest, RunqMigrateCreatesThenReportsUpToDate) {
  const char* dir = std::getenv("RUNQ_TEST_BINARY_DIR");
  if (dir == nullptr) GTEST_SKIP() << "RUNQ_TEST_BINARY_DIR not set (run through ctest)";
  const std::string runq = std::string(dir) + "/runq";
  auto first = ::runq::testing::run_command(runq, {"--store", url(), "migrate"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("migrated from version 0 to"), std::string::npos) << first.out;
  auto again = ::runq::testing::run_command(runq, {"migrate", "--store", url()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("up to date"), std::string::npos) << again.out;
  auto down =
      ::runq::testing::run_command(runq, {"--store", "postgresql://127.0.0.1:1/x", "migrate"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("runq migrate:"), std::string::npos) << down.err;
}

// ---- URLs ---------------------------------------------------------------------------------

TEST_F(PostgresStoreTest, BadUrlsGetClearErrors) {
  for (const std::string& bad : {base() + "?schema=Bad-Name", base() + "?migrate=perhaps",
                                 base() + "?poll=soon", std::string("postgres:nonsense")}) {
    auto s = open_store(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_TRUE(is_invalid_argument(s.status())) << bad << ": " << s.status().to_string();
  }
  // Nothing listens on port 1: Unavailable, with libpq's reason and no password shown.
  auto s = open_store("postgresql://runq:secret@127.0.0.1:1/postgres");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_unavailable(s.status())) << s.status().to_string();
  EXPECT_NE(s.status().message().find("connect"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << s.status().message();
}

TEST_F(PostgresStoreTest, KeywordStringsAndThePostgresqlSchemeOpenTheSameStore) {
  auto a = open(url());
  auto b = open("postgres:host=127.0.0.1 port=" + std::to_string(port_) +
                " user=runq dbname=postgres schema=" + schema_);
  ASSERT_TRUE(a && b);
  ASSERT_THAT(a->enqueue(std::vector<NewTask>{task("shared")}, kNow), IsOk());
  auto got = b->reserve(request({"default"}));
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().id, "shared");
}

// ---- transactional enqueue ----------------------------------------------------------------

TEST_F(PostgresStoreTest, EnqueueInIsInvisibleUntilCommitThenRunsOnce) {
  auto store = open(url());
  ASSERT_TRUE(store);
  PGconn* app = app_conn();
  ASSERT_EQ(exec1(app, "BEGIN"), "");
  auto id = postgres::enqueue_in(app, "send_email", R"(["ada@example.com"])",
                                 EnqueueOptions{}.queue("mail"), schema_);
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(id->size(), 26u);
  auto before = store->reserve(request({"mail"}, 10, now_ms()));
  ASSERT_THAT(before, IsOk());
  EXPECT_TRUE(before->empty()) << "visible before COMMIT";
  EXPECT_TRUE(is_not_found(store->get_task(*id, now_ms()).status()));
  ASSERT_EQ(exec1(app, "COMMIT"), "");
  auto after = store->reserve(request({"mail"}, 10, now_ms()));
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().id, *id);
  auto msg = internal::decode_message(after->front().body);
  ASSERT_THAT(msg, IsOk());
  EXPECT_EQ(msg->name, "send_email");
  EXPECT_EQ(msg->args, R"(["ada@example.com"])");
  EXPECT_EQ(msg->queue, "mail");
  auto again = store->reserve(request({"mail"}, 10, now_ms()));
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->empty());
  PQfinish(app);
}

TEST_F(PostgresStoreTest, EnqueueInRolledBackNeverExists) {
  auto store = open(url());
  ASSERT_TRUE(store);
  PGconn* app = app_conn();
  ASSERT_EQ(exec1(app, "BEGIN"), "");
  auto id =
      postgres::enqueue_in(app, "send_email", "[1]", EnqueueOptions{}.id("rolled-back"), schema_);
  ASSERT_THAT(id, IsOk());
  ASSERT_EQ(exec1(app, "ROLLBACK"), "");
  EXPECT_TRUE(is_not_found(store->get_task("rolled-back", now_ms()).status()));
  auto got = store->reserve(request({"default"}, 10, now_ms()));
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->empty());
  PQfinish(app);
}

TEST_F(PostgresStoreTest, AnApplicationThatDiesBeforeCommitLeavesNoTask) {
  auto store = open(url());
  ASSERT_TRUE(store);
  PGconn* app = app_conn();
  ASSERT_EQ(exec1(app, "BEGIN"), "");
  ASSERT_THAT(postgres::enqueue_in(app, "charge", "[42]", EnqueueOptions{}.id("crashed"), schema_),
              IsOk());
  // The application process dies: its server backend is terminated mid-transaction.
  const std::string pid = std::to_string(PQbackendPID(app));
  EXPECT_EQ(query("SELECT pg_terminate_backend(" + pid + ")"), "t");
  EXPECT_TRUE(::runq::testing::wait_until(
      [&] { return query("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == "0"; }));
  EXPECT_TRUE(is_not_found(store->get_task("crashed", now_ms()).status()));
  PQfinish(app);
}

TEST_F(PostgresStoreTest, TheSqlFunctionEnqueuesFromPlainSql) {
  auto store = open(url());
  ASSERT_TRUE(store);
  const std::string id =
      query("SELECT " + schema_ + ".enqueue('send_email', '[\"ada@example.com\"]', priority => 7)");
  ASSERT_EQ(id.size(), 26u) << id;
  auto got = store->reserve(request({"default"}, 10, now_ms()));
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().id, id);
  EXPECT_EQ(
      query("SELECT " + schema_ + ".enqueue('x', '{\"not\": \"an array\"}')").rfind("-ERROR", 0),
      0u);
  const std::string bad = query("SELECT " + schema_ + ".enqueue('x', '[]', priority => 12)");
  EXPECT_NE(bad.find("priority 12 is outside 0..9"), std::string::npos) << bad;
}

TEST_F(PostgresStoreTest, EnqueueInRejectsBadArgumentsClearly) {
  auto store = open(url());
  ASSERT_TRUE(store);
  PGconn* app = app_conn();
  auto not_array = postgres::enqueue_in(app, "t", R"({"a":1})", {}, schema_);
  EXPECT_TRUE(is_invalid_argument(not_array.status())) << not_array.status().to_string();
  auto not_json = postgres::enqueue_in(app, "t", "[1,", {}, schema_);
  EXPECT_TRUE(is_invalid_argument(not_json.status())) << not_json.status().to_string();
  auto no_schema = postgres::enqueue_in(app, "t", "[]", {}, "nowhere");
  EXPECT_TRUE(is_failed_precondition(no_schema.status())) << no_schema.status().to_string();
  EXPECT_NE(no_schema.status().message().find("runq migrate"), std::string::npos);
  PQfinish(app);
}

TEST_F(PostgresStoreTest, DelayInRunsTheTypedTaskOnceAfterCommit) {
  App app(AppOptions{.store_url = url()});
  std::atomic<int> runs{0};
  auto add = app.task("add", [&runs](int a, int b) {
    ++runs;
    return a + b;
  });
  ASSERT_NE(app.store(), nullptr);  // opening the store creates its schema
  PGconn* conn = app_conn();
  ASSERT_EQ(exec1(conn, "BEGIN"), "");
  auto id = postgres::apply_in(conn, add, EnqueueOptions{}, schema_, 2, 3);
  ASSERT_THAT(id, IsOk());
  ASSERT_EQ(exec1(conn, "COMMIT"), "");
  PQfinish(conn);
  WorkerOptions wo;
  wo.concurrency = 1;
  wo.max_tasks = 1;
  Worker worker(app, wo);
  ASSERT_THAT(worker.run(), IsOk());
  auto info = app.store()->get_task(*id, now_ms());
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->state, TaskState::kSuccess);
  EXPECT_EQ(runs.load(), 1);
}

// ---- LISTEN/NOTIFY ------------------------------------------------------------------------

TEST_F(PostgresStoreTest, AnIdleWaiterWakesOnEnqueueWithinMillisecondsAndBurnsNoCpu) {
  auto waiter = open(url());
  auto producer = open(url());
  ASSERT_TRUE(waiter && producer);
  // Warm up: the listener connects on the first wait.
  ASSERT_THAT(waiter->wait_for_work({"q"}, 50), IsOk());
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(waiter->wait_for_work({"q"}, 1000), IsOk());  // nothing comes: times out
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  const auto idle = std::chrono::steady_clock::now() - start;
  const double cpu_ms = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1e3 +
                        (after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e3 +
                        (after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e3 +
                        (after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e3;
  EXPECT_GE(idle, std::chrono::milliseconds(900));
  EXPECT_LT(cpu_ms, 50.0) << "an idle wait must not spin";

  std::atomic<bool> woke{false};
  std::chrono::steady_clock::time_point woke_at;
  std::thread t([&] {
    EXPECT_THAT(waiter->wait_for_work({"q"}, 20'000), IsOk());
    woke_at = std::chrono::steady_clock::now();
    woke = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it block (not a sync)
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_THAT(producer->enqueue(std::vector<NewTask>{task("wake", "q")}, now_ms()), IsOk());
  t.join();
  ASSERT_TRUE(woke);
  EXPECT_LT(woke_at - sent, std::chrono::seconds(2)) << "woken by NOTIFY, not the 20 s timeout";
  auto got = waiter->reserve(request({"q"}, 1, now_ms()));
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->size(), 1u);
}

TEST_F(PostgresStoreTest, WithoutListenAWaiterPollsAtTheConfiguredInterval) {
  auto waiter = open(url("&listen=false&poll=100ms"));
  ASSERT_TRUE(waiter);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(waiter->wait_for_work({"q"}, 10'000), IsOk());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "returns after the poll interval, for the caller to look again";
}

TEST_F(PostgresStoreTest, WaitTaskWakesWhenTheTaskIsSettled) {
  auto store = open(url());
  auto other = open(url());
  ASSERT_TRUE(store && other);
  ASSERT_THAT(store->enqueue(std::vector<NewTask>{task("waited")}, kNow), IsOk());
  auto d = store->reserve(request({"default"}));
  ASSERT_THAT(d, IsOk());
  ASSERT_EQ(d->size(), 1u);
  std::thread settler([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Settlement s;
    s.id = "waited";
    s.token = d->front().token;
    s.result = "{\"state\":\"success\"}";
    EXPECT_THAT(other->settle(std::span<const Settlement>(&s, 1), kNow), IsOk());
  });
  const auto start = std::chrono::steady_clock::now();
  auto info = store->wait_task("waited", 20'000);
  settler.join();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->state, TaskState::kSuccess);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// ---- faults -------------------------------------------------------------------------------

TEST_F(PostgresStoreTest, ADroppedConnectionIsUnavailableOnceThenReplaced) {
  auto store = open(url());
  ASSERT_TRUE(store);
  ASSERT_THAT(store->enqueue(std::vector<NewTask>{task("before")}, kNow), IsOk());
  // The server drops every connection of runq (an admin, a pooler, a network blip).
  const std::string runq_backends =
      "FROM pg_stat_activity WHERE application_name = 'runq' AND pid <> pg_backend_pid()";
  query("SELECT count(pg_terminate_backend(pid)) " + runq_backends);
  ASSERT_TRUE(::runq::testing::wait_until(
      [&] { return query("SELECT count(*) " + runq_backends) == "0"; }));
  Status first = store->enqueue(std::vector<NewTask>{task("after")}, kNow);
  EXPECT_TRUE(is_unavailable(first)) << first.to_string();
  if (!first.ok()) {
    ASSERT_THAT(store->enqueue(std::vector<NewTask>{task("after")}, kNow), IsOk());
  }
  EXPECT_THAT(store->get_task("before", kNow), IsOk());
  EXPECT_THAT(store->get_task("after", kNow), IsOk());
}

TEST(PostgresFaults, ServerKilledMidDrainLosesNoAcceptedTaskAndStoresReconnect) {
  PostgresServer server;
  RUNQ_START_POSTGRES_OR_SKIP(server);
  auto opened = open_store(server.url("?schema=drain"));
  ASSERT_THAT(opened, IsOk());
  std::unique_ptr<Store> store = std::move(opened).value();
  constexpr int kTasks = 300;
  std::vector<NewTask> tasks;
  for (int i = 0; i < kTasks; ++i) {
    NewTask t;
    t.id = "t" + std::to_string(i);
    t.body = "b";
    tasks.push_back(std::move(t));
  }
  ASSERT_THAT(store->enqueue(tasks, kNow), IsOk());
  std::set<std::string> done;
  auto drain_some = [&](int max, Millis now) -> Status {
    ReserveRequest r;
    r.queues = {"default"};
    r.worker_id = "w";
    r.max = max;
    r.lease_ms = 30'000;
    r.now = now;
    RUNQ_ASSIGN_OR_RETURN(std::vector<Delivery> ds, store->reserve(r));
    std::vector<Settlement> acks;
    for (const Delivery& d : ds) {
      Settlement s;
      s.id = d.id;
      s.token = d.token;
      acks.push_back(s);
    }
    RUNQ_ASSIGN_OR_RETURN(std::vector<bool> applied, store->settle(acks, now));
    for (std::size_t i = 0; i < ds.size(); ++i) {
      if (applied[i]) done.insert(ds[i].id);
    }
    return ok_status();
  };
  ASSERT_THAT(drain_some(100, kNow), IsOk());
  // 50 more are reserved (running) when the server dies.
  ReserveRequest r;
  r.queues = {"default"};
  r.worker_id = "w";
  r.max = 50;
  r.lease_ms = 30'000;
  r.now = kNow;
  ASSERT_THAT(store->reserve(r), IsOk());
  server.kill9();
  auto down = store->reserve(r);
  ASSERT_FALSE(down.ok()) << "reserved " << down->size() << " from a killed server";
  EXPECT_TRUE(is_unavailable(down.status())) << down.status().to_string();
  ASSERT_TRUE(server.restart()) << server.error();
  // The same Store object works again; the 50 lapsed leases come back after their lease.
  const Millis later = kNow + 60'000;
  for (int round = 0; round < 20 && static_cast<int>(done.size()) < kTasks; ++round) {
    ASSERT_THAT(drain_some(100, later), IsOk());
  }
  EXPECT_EQ(static_cast<int>(done.size()), kTasks);
  auto stats = store->stats(later);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->completed, static_cast<std::uint64_t>(kTasks));
}

TEST(PostgresFaults, ConnectionLimitStatementTimeoutAndReadOnlyGetClearErrors) {
  PostgresServer server;
  RUNQ_START_POSTGRES_OR_SKIP(server);
  const std::string port = std::to_string(server.port());
  ASSERT_EQ(server.query("CREATE ROLE lim LOGIN CONNECTION LIMIT 1"), "");
  ASSERT_EQ(server.query("GRANT CREATE ON DATABASE postgres TO lim"), "");
  ASSERT_EQ(server.query("CREATE ROLE ro LOGIN"), "");
  ASSERT_EQ(server.query("ALTER ROLE ro SET default_transaction_read_only = on"), "");

  // Connection limit: the role may hold one connection; a second store cannot connect.
  const std::string lim_url = "postgresql://lim@127.0.0.1:" + port + "/postgres?schema=lim";
  auto first = open_store(lim_url);
  ASSERT_THAT(first, IsOk());
  auto second = open_store(lim_url);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(is_unavailable(second.status())) << second.status().to_string();
  EXPECT_NE(second.status().message().find("connection limit"), std::string::npos)
      << second.status().message();

  // statement_timeout set by the DBA: a call blocked past it fails Unavailable, saying why,
  // and the store works again once the blocker is gone.
  auto store = open_store(server.url("?schema=st"));
  ASSERT_THAT(store, IsOk());
  ASSERT_EQ(server.query("ALTER ROLE runq SET statement_timeout = '300ms'"), "");
  auto timed = open_store(server.url("?schema=st"));
  ASSERT_THAT(timed, IsOk());
  PGconn* blocker =
      PQconnectdb(("host=127.0.0.1 port=" + port + " user=runq dbname=postgres").c_str());
  ASSERT_EQ(PQstatus(blocker), CONNECTION_OK);
  PQclear(PQexec(blocker, "SET statement_timeout = 0"));
  PQclear(PQexec(blocker, "BEGIN"));
  PQclear(PQexec(blocker, "LOCK TABLE st.tasks IN ACCESS EXCLUSIVE MODE"));
  NewTask t;
  t.id = "blocked";
  t.body = "b";
  Status s = (*timed)->enqueue(std::span<const NewTask>(&t, 1), kNow);
  EXPECT_TRUE(is_unavailable(s)) << s.to_string();
  EXPECT_NE(s.message().find("statement_timeout"), std::string::npos) << s.message();
  PQclear(PQexec(blocker, "ROLLBACK"));
  PQfinish(blocker);
  EXPECT_THAT((*timed)->enqueue(std::span<const NewTask>(&t, 1), kNow), IsOk());
  ASSERT_EQ(server.query("ALTER ROLE runq RESET statement_timeout"), "");

  // A read-only server (as a replica is): refused when opened, naming the cause.
  auto ro = open_store("postgresql://ro@127.0.0.1:" + port + "/postgres?schema=st");
  ASSERT_FALSE(ro.ok());
  EXPECT_TRUE(is_failed_precondition(ro.status())) << ro.status().to_string();
  EXPECT_NE(ro.status().message().find("read-only"), std::string::npos) << ro.status().message();
}

}  // namespace
}  // namespace runq
