// Redis-specific behaviour of the redis:// store and of the redis-server test fixture. The
// general Store semantics are checked by tests/conformance/.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "runq/runq.hpp"
#include "runq/store.hpp"
#include "store/redis_store.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using testing::RedisServer;
using testing::RedisServerOptions;
using Clock = std::chrono::steady_clock;

constexpr Millis kNow = 1'700'000'000'000;

std::unique_ptr<Store> open_or_die(const std::string& url) {
  auto store = open_store(url);
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(store).value() : nullptr;
}

NewTask task(std::string id, std::string queue = "default", int priority = 0, Millis eta = 0) {
  NewTask t;
  t.id = std::move(id);
  t.queue = std::move(queue);
  t.priority = priority;
  t.eta = eta;
  t.body = "{\"task\":\"" + t.id + "\"}";
  return t;
}

ReserveRequest request(std::vector<std::string> queues, int max = 10, Millis now = kNow) {
  ReserveRequest r;
  r.queues = std::move(queues);
  r.worker_id = "w1";
  r.max = max;
  r.lease_ms = 30'000;
  r.now = now;
  return r;
}

std::vector<std::string> ids_of(const std::vector<Delivery>& ds) {
  std::vector<std::string> ids;
  for (const Delivery& d : ds) ids.push_back(d.id);
  return ids;
}

Millis elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---- the fixture ----------------------------------------------------------------------------

TEST(RedisServerFixture, StartsAnswersAndStops) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.command({"PING"}), "PONG");
  EXPECT_EQ(server.command({"SET", "k", "v"}), "OK");
  EXPECT_EQ(server.command({"GET", "k"}), "v");
  server.stop();
  EXPECT_EQ(server.command({"PING"}).rfind("-CONNECTION", 0), 0u);
}

TEST(RedisServerFixture, PasswordAndRestartKeepAppendOnlyData) {
  RedisServer server(RedisServerOptions{.appendonly = true, .requirepass = "s3cret"});
  RUNQ_START_REDIS_OR_SKIP(server);
  EXPECT_NE(server.url().find(":s3cret@127.0.0.1:"), std::string::npos);
  EXPECT_EQ(server.command({"RPUSH", "l", "a", "b"}), "2");
  int port = server.port();
  server.kill9();
  ASSERT_TRUE(server.restart()) << server.error();
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.command({"LRANGE", "l", "0", "-1"}), "a\nb");
}

// ---- URLs and connecting --------------------------------------------------------------------

TEST(RedisUrl, ParsesEveryForm) {
  auto plain = parse_redis_url("redis://localhost");
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->host, "localhost");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  EXPECT_EQ(plain->password, "");

  auto full = parse_redis_url("redis://:p%40ss@10.0.0.2:6380/3");
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  EXPECT_EQ(full->host, "10.0.0.2");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->password, "p@ss");
  EXPECT_EQ(full->username, "");

  auto user = parse_redis_url("redis://app:secret@redis.internal:7000/");
  ASSERT_TRUE(user.ok()) << user.status().to_string();
  EXPECT_EQ(user->username, "app");
  EXPECT_EQ(user->password, "secret");
  EXPECT_EQ(user->db, 0);

  auto v6 = parse_redis_url("redis://[::1]:6390/1");
  ASSERT_TRUE(v6.ok()) << v6.status().to_string();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6390);
}

TEST(RedisUrl, QueryParametersChooseBlockAndRetry) {
  auto r = parse_redis_url("redis://localhost:6379/0?retry=30s&timeout=2s");

  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->block_and_retry);
  EXPECT_EQ(r->retry_for_ms, 30'000);
  EXPECT_EQ(r->io_timeout_ms, 2'000);
  EXPECT_FALSE(parse_redis_url("redis://localhost").value().block_and_retry);
  EXPECT_TRUE(is_invalid_argument(parse_redis_url("redis://localhost?retry=soon").status()));
}

TEST(RedisUrl, PrefixParameterSetsTheKeyPrefix) {
  auto r = parse_redis_url("redis://localhost/0?prefix=app%261:&timeout=2s");

  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->key_prefix, "app&1:");
  EXPECT_EQ(r->io_timeout_ms, 2'000);
  EXPECT_EQ(parse_redis_url("redis://localhost").value().key_prefix, "runq:");
  EXPECT_TRUE(is_invalid_argument(parse_redis_url("redis://localhost?prefix=").status()));
  EXPECT_TRUE(is_invalid_argument(parse_redis_url("redis://localhost?prefix=a%zz").status()));
}

TEST(RedisUrl, UnknownQueryParameterIsInvalidArgumentNamingTheKnownOnes) {
  auto r = parse_redis_url("redis://localhost?prefx=a:");

  ASSERT_TRUE(is_invalid_argument(r.status())) << r.status().to_string();
  EXPECT_NE(r.status().message().find("unknown parameter 'prefx' (known: retry, timeout, prefix)"),
            std::string::npos)
      << r.status().message();
}

TEST(RedisUrl, RejectsMalformedUrlsWithoutLeakingThePassword) {
  for (const char* bad :
       {"http://localhost", "redis://", "redis://host:0", "redis://host:99999", "redis://host:abc",
        "redis://host/x", "redis://host/-1", "redis://onlyuser@host", "redis://host?db=1",
        "redis://[::1", "redis://:bad%zz@host"}) {
    auto r = parse_redis_url(bad);
    EXPECT_TRUE(is_invalid_argument(r.status())) << bad << " -> " << r.status().to_string();
  }
  auto r = parse_redis_url("redis://:hunter2@host:notaport");
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("port"), std::string::npos);
}

TEST(RedisStoreConnect, ServerDownAtOpenIsUnavailableWithTheCause) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  const std::string url = server.url();
  server.stop();
  auto store = open_store(url);
  ASSERT_TRUE(is_unavailable(store.status())) << store.status().to_string();
  EXPECT_EQ(store.status().message(), "connecting to redis at 127.0.0.1:" +
                                          std::to_string(server.port()) + ": Connection refused");
}

TEST(RedisStoreConnect, WrongPasswordIsOneClearFailedPrecondition) {
  RedisServer server(RedisServerOptions{.requirepass = "right"});
  RUNQ_START_REDIS_OR_SKIP(server);
  const std::string addr = "127.0.0.1:" + std::to_string(server.port());
  auto wrong = open_store("redis://:wrong@" + addr + "/0");
  ASSERT_TRUE(is_failed_precondition(wrong.status())) << wrong.status().to_string();
  EXPECT_EQ(wrong.status().message(),
            "authenticating to redis at " + addr +
                ": wrong password (check the password in the redis:// URL)");
  auto missing = open_store("redis://" + addr + "/0");
  EXPECT_TRUE(is_failed_precondition(missing.status())) << missing.status().to_string();
  auto right = open_store(server.url());
  EXPECT_TRUE(right.ok()) << right.status().to_string();
}

// ---- key prefix -----------------------------------------------------------------------------

TEST(RedisStorePrefix, StoresWithDifferentPrefixesDoNotSeeEachOthersTasks) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto a = open_or_die(server.url() + "?prefix=a:");
  auto b = open_or_die(server.url() + "?prefix=b:");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  std::vector<NewTask> tasks = {task("only-in-a")};
  ASSERT_TRUE(a->enqueue(tasks, kNow).ok());

  EXPECT_TRUE(a->get_task("only-in-a", kNow).ok());
  EXPECT_TRUE(is_not_found(b->get_task("only-in-a", kNow).status()));
  auto from_b = b->reserve(request({"default"}));
  ASSERT_TRUE(from_b.ok()) << from_b.status().to_string();
  EXPECT_TRUE(from_b->empty());
  EXPECT_NE(server.command({"KEYS", "a:*"}), "");
  EXPECT_EQ(server.command({"KEYS", "b:*"}), "");
  auto from_a = a->reserve(request({"default"}));
  ASSERT_TRUE(from_a.ok()) << from_a.status().to_string();
  EXPECT_EQ(ids_of(*from_a), std::vector<std::string>{"only-in-a"});
}

// ---- scripts --------------------------------------------------------------------------------

// FUNCTION FLUSH (or a restart of a server that keeps no data) drops runq's function library:
// every kind of call loads it again and goes on, including a multi-chunk enqueue.
TEST(RedisStoreScripts, FunctionFlushIsRecoveredTransparently) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(server.command({"FUNCTION", "FLUSH"}), "OK");
  std::vector<NewTask> tasks = {task("a"), task("b")};
  ASSERT_TRUE(store->enqueue(tasks, kNow).ok());
  ASSERT_EQ(server.command({"FUNCTION", "FLUSH"}), "OK");
  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(server.command({"FUNCTION", "FLUSH"}), "OK");
  std::vector<Settlement> acks(2);
  for (int i = 0; i < 2; ++i) {
    acks[i].id = (*got)[i].id;
    acks[i].token = (*got)[i].token;
    acks[i].result = "{\"value\":1}";
  }
  auto flags = store->settle(acks, kNow + 1);
  ASSERT_TRUE(flags.ok()) << flags.status().to_string();
  EXPECT_EQ(*flags, (std::vector<bool>{true, true}));

  ASSERT_EQ(server.command({"FUNCTION", "FLUSH"}), "OK");
  std::vector<NewTask> many;
  for (int i = 0; i < 2500; ++i) many.push_back(task("m" + std::to_string(i)));
  ASSERT_TRUE(store->enqueue(many, kNow).ok());
  auto all = store->reserve(request({"default"}, 3000));
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(all->size(), 2500u);
}

// Stores of two runq versions can share a server: each loads and calls its own library. A
// store opened while the library is already loaded does not load it again.
TEST(RedisStoreScripts, OpeningLoadsTheLibraryOnce) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto first = open_or_die(server.url());
  ASSERT_NE(first, nullptr);
  auto second = open_or_die(server.url());
  ASSERT_NE(second, nullptr);
  std::string listed = server.command({"FUNCTION", "LIST"});
  EXPECT_NE(listed.find("runq_"), std::string::npos) << listed;
  std::string stats = server.command({"INFO", "commandstats"});
  EXPECT_NE(stats.find("cmdstat_function|load:calls=1,"), std::string::npos) << stats;
}

// Expired results are removed by cleanup alone, and one Redis cleanup call removes at most
// 10,000: a worker that finds a backlog cleans up again at its next tick, not a minute later.
TEST(RedisStoreCleanup, WorkerWorksOffABacklogOfExpiredResults) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  constexpr std::size_t kTasks = 12'000;
  std::vector<NewTask> tasks;
  for (std::size_t i = 0; i < kTasks; ++i) tasks.push_back(task("x" + std::to_string(i)));
  ASSERT_TRUE(store->enqueue(tasks, kNow).ok());
  std::size_t acked = 0;
  for (int round = 0; round < 20 && acked < kTasks; ++round) {
    auto got = store->reserve(request({"default"}, 1000));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    std::vector<Settlement> acks;
    for (const Delivery& d : *got) {
      Settlement s;
      s.id = d.id;
      s.token = d.token;
      s.result = "{}";
      s.result_ttl = 1;  // expired long before the worker's (real) clock reads it
      acks.push_back(std::move(s));
    }
    ASSERT_TRUE(store->settle(acks, kNow).ok());
    acked += got->size();
  }
  ASSERT_EQ(acked, kTasks);
  ASSERT_EQ(server.command({"HLEN", "runq:finished"}), std::to_string(kTasks));

  App app(AppOptions{.store_url = server.url()});
  Worker worker(app, WorkerOptions{.concurrency = 1});
  ASSERT_TRUE(worker.start().ok());
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return server.command({"HLEN", "runq:finished"}) == "0";
      },
      std::chrono::seconds(20)))
      << server.command({"HLEN", "runq:finished"}) << " results left";
  worker.request_stop();
  worker.wait();
}

TEST(RedisStoreScripts, LargeBatchIsAllOrNothing) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  RedisStoreOptions opts = *parse_redis_url(server.url());
  opts.max_body_bytes = 64;
  auto store = new_redis_store(opts);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  std::vector<NewTask> tasks;
  for (int i = 0; i < 2500; ++i) tasks.push_back(task("t" + std::to_string(i)));
  tasks[2400].body = std::string(65, 'x');
  Status s = (*store)->enqueue(tasks, kNow);
  EXPECT_TRUE(is_too_large(s)) << s.to_string();
  EXPECT_NE(s.message().find("65 bytes"), std::string::npos) << s.message();
  EXPECT_EQ(server.command({"HEXISTS", "runq:tasks", "t0"}), "0");

  tasks[2400].body = "small";
  ASSERT_TRUE((*store)->enqueue(tasks, kNow).ok());
  ASSERT_TRUE((*store)->enqueue(tasks, kNow).ok());  // every id exists: all skipped
  auto stats = (*store)->stats(kNow);
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->queues.size(), 1u);
  EXPECT_EQ(stats->queues[0].pending, 2500);
  auto first = (*store)->reserve(request({"default"}, 3));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(ids_of(*first), (std::vector<std::string>{"t0", "t1", "t2"}));  // FIFO across chunks
}

// ---- layout ---------------------------------------------------------------------------------

TEST(RedisStoreLayout, BatchWithExistingIdsAddsOnlyTheNewOnesInOrder) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("b"), task("d", "default", 5)}, kNow).ok());
  std::vector<NewTask> batch = {task("a"),
                                task("b", "default", 9),
                                task("c", "default", 5),
                                task("d"),
                                task("e", "default", 0, kNow + 1'000),
                                task("a", "other"),
                                task("f")};
  ASSERT_TRUE(store->enqueue(batch, kNow).ok());
  EXPECT_EQ(server.command({"HLEN", "runq:tasks"}), "6");
  EXPECT_EQ(server.command({"HLEN", "runq:bodies"}), "6");
  auto a = store->get_task("a", kNow);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->queue, "default");  // the first of a repeated id wins
  EXPECT_EQ(a->body, "{\"task\":\"a\"}");
  auto e = store->get_task("e", kNow);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state, TaskState::kScheduled);
  EXPECT_EQ(e->eta, kNow + 1'000);
  auto got = store->reserve(request({"default"}, 10, kNow + 1'000));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"d", "c", "b", "a", "f", "e"}));
}

// Unique keys and limits live in their own keys (P uniq, P uniqof, P tlimits, P parked:<k>,
// P held:<k>): every way a task leaves (ack, revoke, purge of its queue, dead letter purged)
// removes its entries, so they hold only live tasks.
TEST(RedisStoreLayout, AckRevokePurgeAndDeadPurgeLeaveNoUniqueOrLimitEntries) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  std::vector<NewTask> batch;
  for (std::string id : {"a", "b", "c", "d", "e"}) {
    batch.push_back(task(id, id == "e" ? "poison" : "default"));
    batch.back().unique.key = "u-" + id;
    batch.back().limits.concurrency_key = "k-" + batch.back().queue;
    batch.back().limits.max_concurrency = 1;
  }
  auto holders = store->enqueue_unique(batch, kNow);
  ASSERT_TRUE(holders.ok()) << holders.status().to_string();
  EXPECT_EQ(server.command({"HLEN", "runq:tlimits"}), "5");
  EXPECT_EQ(server.command({"HLEN", "runq:uniqof"}), "5");
  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  ASSERT_EQ(ids_of(*got), std::vector<std::string>{"a"});  // b, c, d parked
  EXPECT_EQ(server.command({"ZCARD", "runq:parked:k-default"}), "3");
  auto poison = store->reserve(request({"poison"}));
  ASSERT_TRUE(poison.ok() && poison->size() == 1u);

  Revocation revoke;
  revoke.id = "b";
  ASSERT_TRUE(store->revoke(revoke, kNow).ok());
  ASSERT_TRUE(store->purge_queue("default").ok());
  std::vector<Settlement> settle(2);
  settle[0].id = "a";
  settle[0].token = (*got)[0].token;
  settle[1].id = "e";
  settle[1].token = (*poison)[0].token;
  settle[1].outcome = Outcome::kDeadLetter;
  settle[1].reason = "poison";
  ASSERT_TRUE(store->settle(settle, kNow).ok());
  ASSERT_TRUE(store->purge_dead().ok());

  for (std::string key : {"runq:tlimits", "runq:uniq", "runq:uniqof"}) {
    EXPECT_EQ(server.command({"HLEN", key}), "0") << key;
  }
  EXPECT_EQ(server.command({"ZCARD", "runq:parked:k-default"}), "0");
  EXPECT_EQ(server.command({"SCARD", "runq:held:k-default"}), "0");
  EXPECT_EQ(server.command({"SCARD", "runq:held:k-poison"}), "0");
}

TEST(RedisStoreLayout, FinishedRecordsLeaveTheirHashAtCleanupAfterTheirTtl) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("x"), task("y")}, kNow).ok());
  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok() && got->size() == 2u);
  std::vector<Settlement> acks(2);
  for (int i = 0; i < 2; ++i) {
    acks[i].id = (*got)[i].id;
    acks[i].token = (*got)[i].token;
    acks[i].result = "r" + std::to_string(i);
    acks[i].result_ttl = i == 0 ? 1'000 : 60'000;
  }
  ASSERT_TRUE(store->settle(acks, kNow).ok());
  EXPECT_EQ(server.command({"HLEN", "runq:tasks"}), "0");
  EXPECT_EQ(server.command({"HLEN", "runq:finished"}), "2");
  ASSERT_TRUE(store->cleanup(kNow + 2'000).ok());
  EXPECT_EQ(server.command({"HEXISTS", "runq:finished", "x"}), "0");
  EXPECT_EQ(server.command({"HEXISTS", "runq:finished", "y"}), "1");
  EXPECT_TRUE(is_not_found(store->get_task("x", kNow + 2'000).status()));
  // An id whose result expired may be enqueued again.
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("x"), task("y")}, kNow + 2'000).ok());
  auto again = store->reserve(request({"default"}, 10, kNow + 2'000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ids_of(*again), (std::vector<std::string>{"x"}));
}

// ---- damaged data ---------------------------------------------------------------------------

// A live record as enqueue writes it (layout: src/store/redis/common.lua).
std::string record(std::string_view state, std::string_view deliveries, std::string_view queue) {
  const std::string sep = "\x1f";
  // state, deliveries, token, lease, priority, max deliveries, eta, progress, #queue, queue
  return std::string(state) + sep + std::string(deliveries) + sep + sep + sep + "0" + sep + "5" +
         sep + sep + sep + std::to_string(queue.size()) + sep + std::string(queue);
}

TEST(RedisStoreDamage, GarbageTaskRecordsAreDeadLetteredAndOthersStillServed) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  std::vector<NewTask> tasks = {task("not-a-record"), task("bad-counter"), task("good")};
  ASSERT_TRUE(store->enqueue(tasks, kNow).ok());
  ASSERT_EQ(server.command({"HGET", "runq:tasks", "good"}), record("pending", "0", "default"));
  ASSERT_EQ(server.command({"HSET", "runq:tasks", "not-a-record", "garbage"}), "0");
  ASSERT_EQ(
      server.command({"HSET", "runq:tasks", "bad-counter", record("pending", "twelve", "default")}),
      "0");
  ASSERT_EQ(server.command({"LPUSH", "runq:q:default:0", "ghost"}), "4");

  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"good"}));

  auto dead = store->list_dead(10);
  ASSERT_TRUE(dead.ok()) << dead.status().to_string();
  ASSERT_EQ(dead->size(), 2u);
  for (const DeadTask& d : *dead) {
    EXPECT_NE(d.reason.find("corrupt task record"), std::string::npos) << d.id << ": " << d.reason;
  }
  auto info = store->get_task("not-a-record", kNow);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->state, TaskState::kDead);
  EXPECT_EQ(server.command({"HGET", "runq:corrupt", "not-a-record"}), "garbage");
}

TEST(RedisStoreDamage, GarbageBodiesKeyIsMovedAsideAndItsTasksDeadLettered) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("lost")}, kNow).ok());
  ASSERT_EQ(server.command({"SET", "runq:bodies", "garbage"}), "OK");
  auto none = store->reserve(request({"default"}));
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(server.command({"GET", "runq:bodies:corrupt"}), "garbage");
  auto dead = store->list_dead(10);
  ASSERT_TRUE(dead.ok()) << dead.status().to_string();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, "lost");
  EXPECT_NE((*dead)[0].reason.find("corrupt task record"), std::string::npos);

  ASSERT_EQ(server.command({"SET", "runq:tasks", "garbage"}), "OK");
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("next")}, kNow).ok());
  EXPECT_EQ(server.command({"GET", "runq:tasks:corrupt"}), "garbage");
  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"next"}));
  EXPECT_TRUE(store->stats(kNow).ok());
}

TEST(RedisStoreDamage, GarbageQueueKeyIsMovedAsideAndTheQueueKeepsWorking) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(server.command({"SET", "runq:q:default:0", "garbage"}), "OK");
  auto empty = store->reserve(request({"default"}));
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(server.command({"GET", "runq:q:default:0:corrupt"}), "garbage");

  ASSERT_EQ(server.command({"SET", "runq:q:default:0", "garbage again"}), "OK");
  std::vector<NewTask> tasks = {task("x")};
  ASSERT_TRUE(store->enqueue(tasks, kNow).ok());
  auto got = store->reserve(request({"default"}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(ids_of(*got), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(store->stats(kNow).ok());
}

TEST(RedisStoreDamage, UnreadableTaskStateIsDataLoss) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(server.command({"HSET", "runq:tasks", "odd", record("exploded", "0", "q")}), "1");
  EXPECT_TRUE(is_data_loss(store->get_task("odd", kNow).status()));
  ASSERT_EQ(server.command({"HSET", "runq:tasks", "str", "x"}), "1");
  EXPECT_TRUE(is_data_loss(store->get_task("str", kNow).status()));
  ASSERT_EQ(server.command({"SET", "runq:reasons", "x"}), "OK");
  EXPECT_TRUE(is_data_loss(store->get_task("odd", kNow).status()));
}

// ---- blocking waits -------------------------------------------------------------------------

TEST(RedisStoreWait, WaitForWorkWakesOnEnqueueFromAnotherStore) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto worker = open_or_die(server.url());
  auto producer = open_or_die(server.url());
  ASSERT_TRUE(worker && producer);
  std::atomic<bool> woke{false};
  std::atomic<Millis> waited{0};
  std::thread waiter([&] {
    auto start = Clock::now();
    EXPECT_TRUE(worker->wait_for_work({"other", "jobs"}, 10'000).ok());
    waited = elapsed_ms(start);
    woke = true;
  });
  // The waiter is blocked in BLPOP once redis lists it as a blocked client.
  ASSERT_TRUE(testing::wait_until([&] {
    return server.command({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
  }));
  std::vector<NewTask> tasks = {task("j1", "jobs")};
  auto start = Clock::now();
  ASSERT_TRUE(producer->enqueue(tasks, kNow).ok());
  EXPECT_TRUE(testing::wait_until([&] { return woke.load(); }, std::chrono::seconds(2)));
  EXPECT_LT(elapsed_ms(start), 1000);
  waiter.join();
  EXPECT_LT(waited.load(), 5'000);
}

TEST(RedisStoreWait, WaitForWorkTimesOutWhenNothingArrives) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  auto start = Clock::now();
  ASSERT_TRUE(store->wait_for_work({"empty"}, 150).ok());
  Millis took = elapsed_ms(start);
  EXPECT_GE(took, 140);
  EXPECT_LT(took, 1000);
  // A ready task makes it return at once.
  std::vector<NewTask> tasks = {task("r", "empty")};
  ASSERT_TRUE(store->enqueue(tasks, kNow).ok());
  ASSERT_TRUE(store->reserve(request({"empty"})).ok());
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{task("r2", "empty")}, kNow).ok());
  start = Clock::now();
  ASSERT_TRUE(store->wait_for_work({"empty"}, 5'000).ok());
  EXPECT_LT(elapsed_ms(start), 1000);
}

TEST(RedisStoreWait, ScheduledTaskEndsTheWaitAtItsEta) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  Millis now = to_millis(std::chrono::system_clock::now().time_since_epoch());
  std::vector<NewTask> tasks = {task("later", "default", 0, now + 200)};
  ASSERT_TRUE(store->enqueue(tasks, now).ok());
  auto start = Clock::now();
  Millis took = 0;
  std::vector<Delivery> got;
  for (int i = 0; i < 20 && got.empty() && elapsed_ms(start) < 5'000; ++i) {
    ASSERT_TRUE(store->wait_for_work({"default"}, 5'000).ok());
    took = elapsed_ms(start);
    Millis t = to_millis(std::chrono::system_clock::now().time_since_epoch());
    auto r = store->reserve(request({"default"}, 1, t));
    ASSERT_TRUE(r.ok());
    got = *r;
  }
  ASSERT_EQ(ids_of(got), (std::vector<std::string>{"later"}));
  EXPECT_GE(took, 150);
  EXPECT_LT(took, 200 + 100);  // eta plus slack for a loaded machine; typically < 5 ms late
}

TEST(RedisStoreWait, WaitTaskWakesWhenAnotherStoreSettles) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto client = open_or_die(server.url());
  auto worker = open_or_die(server.url());
  ASSERT_TRUE(client && worker);
  ASSERT_TRUE(client->enqueue(std::vector<NewTask>{task("job")}, kNow).ok());
  auto d = worker->reserve(request({"default"}));
  ASSERT_TRUE(d.ok() && d->size() == 1);
  std::thread settler([&] {
    EXPECT_TRUE(testing::wait_until([&] {
      return server.command({"ZSCORE", "runq:waiting", "job"}) != "(nil)";
    }));
    Settlement s;
    s.id = "job";
    s.token = (*d)[0].token;
    s.result = "{\"value\":42}";
    EXPECT_TRUE(worker->settle(std::vector<Settlement>{s}, kNow + 5).ok());
  });
  auto start = Clock::now();
  auto info = client->wait_task("job", 10'000);
  settler.join();
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->state, TaskState::kSuccess);
  EXPECT_EQ(info->result, "{\"value\":42}");
  EXPECT_LT(elapsed_ms(start), 5'000);

  auto missing = client->wait_task("nope", 10);
  EXPECT_TRUE(is_not_found(missing.status()));
  ASSERT_TRUE(client->enqueue(std::vector<NewTask>{task("slow")}, kNow).ok());
  auto late = client->wait_task("slow", 50);
  EXPECT_TRUE(is_deadline_exceeded(late.status())) << late.status().to_string();
}

// ---- leases ---------------------------------------------------------------------------------

TEST(RedisStoreLeases, LapsedLeaseIsReclaimedByAnyWorkerAndDeadLetteredWithAReason) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_die(server.url());
  ASSERT_NE(store, nullptr);
  NewTask t = task("fragile", "a");
  t.max_deliveries = 2;
  ASSERT_TRUE(store->enqueue(std::vector<NewTask>{t}, kNow).ok());
  auto first = store->reserve(request({"a"}, 1, kNow));
  ASSERT_TRUE(first.ok() && first->size() == 1);
  // A worker of another queue reclaims the lapsed lease: no single reaper.
  ASSERT_TRUE(store->reserve(request({"b"}, 1, kNow + 31'000)).ok());
  auto second = store->reserve(request({"a"}, 1, kNow + 31'000));
  ASSERT_TRUE(second.ok() && second->size() == 1);
  EXPECT_EQ((*second)[0].deliveries, 2);
  EXPECT_GT((*second)[0].token, (*first)[0].token);
  ASSERT_TRUE(store->reserve(request({"b"}, 1, kNow + 62'000)).ok());
  auto dead = store->list_dead(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].reason, "lease lapsed 2 times; last worker w1 stopped heartbeating");
  Settlement late;
  late.id = "fragile";
  late.token = (*second)[0].token;
  auto flags = store->settle(std::vector<Settlement>{late}, kNow + 63'000);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags, std::vector<bool>{false});
  EXPECT_EQ(store->stats(kNow)->duplicates, 1u);
}

}  // namespace
}  // namespace runq
