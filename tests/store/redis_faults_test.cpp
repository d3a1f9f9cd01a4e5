// The redis:// store when redis-server dies: kill -9 with appendonly + appendfsync always
// keeps every accepted task, and a Store object reconnects by itself after a restart.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "runq/store.hpp"
#include "store/redis_store.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace runq {
namespace {

using testing::RedisServer;
using testing::RedisServerOptions;

constexpr Millis kNow = 1'700'000'000'000;

std::vector<NewTask> batch(int first, int n, const std::string& queue = "default") {
  std::vector<NewTask> tasks;
  for (int i = first; i < first + n; ++i) {
    NewTask t;
    t.id = "task-" + std::to_string(i);
    t.queue = queue;
    t.body = "{\"n\":" + std::to_string(i) + "}";
    tasks.push_back(std::move(t));
  }
  return tasks;
}

ReserveRequest request(int max, Millis now = kNow) {
  ReserveRequest r;
  r.queues = {"default"};
  r.worker_id = "w";
  r.max = max;
  r.lease_ms = 60'000;
  r.now = now;
  return r;
}

std::unique_ptr<Store> open_or_null(const std::string& url) {
  auto store = open_store(url);
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(RedisFaults, KillNineKeepsEveryAcceptedTaskAndLease) {
  RedisServer server(RedisServerOptions{.appendonly = true});
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url());
  ASSERT_NE(store, nullptr);
  constexpr int kBatches = 20, kBatch = 100;
  for (int b = 0; b < kBatches; ++b)
    ASSERT_TRUE(store->enqueue(batch(b * kBatch, kBatch), kNow).ok());
  auto held = store->reserve(request(100));
  ASSERT_TRUE(held.ok() && held->size() == 100u);
  std::vector<Settlement> acks;
  for (int i = 0; i < 40; ++i) {
    Settlement s;
    s.id = (*held)[i].id;
    s.token = (*held)[i].token;
    s.result = "done";
    acks.push_back(s);
  }
  ASSERT_TRUE(store->settle(acks, kNow + 1).ok());

  server.kill9();
  ASSERT_TRUE(server.restart()) << server.error();

  auto reopened = open_or_null(server.url());
  ASSERT_NE(reopened, nullptr);
  auto stats = reopened->stats(kNow + 2);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  ASSERT_EQ(stats->queues.size(), 1u);
  EXPECT_EQ(stats->queues[0].pending, kBatches * kBatch - 100);
  EXPECT_EQ(stats->queues[0].running, 60);
  EXPECT_EQ(stats->completed, 40u);
  // The surviving holders still hold their leases, with the same tokens.
  Settlement s;
  s.id = (*held)[99].id;
  s.token = (*held)[99].token;
  auto flags = reopened->settle(std::vector<Settlement>{s}, kNow + 3);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(*flags, std::vector<bool>{true});
  auto info = reopened->get_task((*held)[0].id, kNow + 3);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->result, "done");
}

TEST(RedisFaults, TasksAcceptedWhileTheServerIsKilledAreAllThere) {
  RedisServer server(RedisServerOptions{.appendonly = true});
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url());
  ASSERT_NE(store, nullptr);
  std::vector<int> accepted;  // first index of each batch whose enqueue returned OK
  std::atomic<int> attempts{0};
  std::thread producer([&] {
    for (int b = 0; b < 2000; ++b) {
      attempts = b + 1;
      Status s = store->enqueue(batch(b * 10, 10), kNow);
      if (s.ok()) {
        accepted.push_back(b * 10);
      } else {
        EXPECT_TRUE(is_unavailable(s)) << s.to_string();
        break;
      }
    }
  });
  ASSERT_TRUE(testing::wait_until([&] { return attempts.load() >= 50; }));
  server.kill9();
  producer.join();
  ASSERT_TRUE(server.restart()) << server.error();
  auto reopened = open_or_null(server.url());
  ASSERT_NE(reopened, nullptr);
  ASSERT_GE(accepted.size(), 49u);
  int missing = 0;
  for (int first : accepted) {
    for (int i = first; i < first + 10; ++i) {
      if (!reopened->get_task("task-" + std::to_string(i), kNow).ok()) ++missing;
    }
  }
  EXPECT_EQ(missing, 0) << "of " << accepted.size() * 10 << " accepted tasks";
}

TEST(RedisFaults, StoreReconnectsByItselfAfterARestart) {
  RedisServer server(RedisServerOptions{.appendonly = true});
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->enqueue(batch(0, 3), kNow).ok());

  server.kill9();
  Status down = store->enqueue(batch(3, 1), kNow);
  EXPECT_TRUE(is_unavailable(down)) << down.to_string();
  EXPECT_NE(down.message().find("redis at 127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << down.message();
  EXPECT_TRUE(is_unavailable(store->wait_for_work({"default"}, 50)));

  ASSERT_TRUE(server.restart()) << server.error();
  auto got = store->reserve(request(10));  // same Store object: scripts reloaded, reconnected
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->size(), 3u);
  EXPECT_TRUE(store->enqueue(batch(3, 1), kNow).ok());
}

// A large batch is one MULTI/EXEC that Redis may take longer than the I/O timeout to run; the
// EXEC reply gets the timeout plus 1 ms per 10 tasks, so a batch is not reported failed while
// the server is still applying it (with timeout=100ms, 50,000 tasks take longer than that).
TEST(RedisFaults, LargeBatchOutlastingTheIoTimeoutIsNotReportedFailed) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url() + "?timeout=100ms");
  ASSERT_NE(store, nullptr);

  Status added = store->enqueue(batch(0, 50'000), kNow);

  ASSERT_TRUE(added.ok()) << added.to_string();
  auto stats = store->stats(kNow);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  std::int64_t pending = 0;
  for (const QueueStats& q : stats->queues) pending += q.pending;
  EXPECT_EQ(pending, 50'000);
}

TEST(RedisFaults, BlockedWaitEndsWhenTheServerDies) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url());
  ASSERT_NE(store, nullptr);
  std::atomic<bool> returned{false};
  Status result;
  std::thread waiter([&] {
    result = store->wait_for_work({"default"}, 30'000);
    returned = true;
  });
  ASSERT_TRUE(testing::wait_until([&] {
    return server.command({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
  }));
  server.kill9();
  EXPECT_TRUE(testing::wait_until([&] { return returned.load(); }, std::chrono::seconds(5)));
  waiter.join();
  EXPECT_TRUE(is_unavailable(result)) << result.to_string();
}

TEST(RedisFaults, BlockAndRetryRidesOutARestart) {
  RedisServer server(RedisServerOptions{.appendonly = true});
  RUNQ_START_REDIS_OR_SKIP(server);
  RedisStoreOptions opts = *parse_redis_url(server.url());
  opts.block_and_retry = true;
  opts.retry_for_ms = 15'000;
  auto store = new_redis_store(opts);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  ASSERT_TRUE((*store)->enqueue(batch(0, 1), kNow).ok());
  server.kill9();
  std::thread restarter([&] { EXPECT_TRUE(server.restart()) << server.error(); });
  Status s = (*store)->enqueue(batch(1, 1), kNow);  // usually starts while the server is down
  restarter.join();
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto stats = (*store)->stats(kNow);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queues.at(0).pending, 2);
}

// Redis at its maxmemory (noeviction, the default policy): enqueue fails with a clear
// ResourceExhausted, every task accepted before is still there, and once memory is raised
// enqueue works again.
TEST(RedisFaults, MaxmemoryIsResourceExhaustedAndKeepsEveryAcceptedTask) {
  RedisServer server;
  RUNQ_START_REDIS_OR_SKIP(server);
  auto store = open_or_null(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(server.command({"CONFIG", "SET", "maxmemory", "4mb"}), "OK");
  int accepted = 0;
  Status error;

  // Bounded: 4 MB hold far fewer than 1,000 batches of 100 tasks of 1 KB.
  for (int i = 0; i < 1000 && error.ok(); ++i) {
    std::vector<NewTask> tasks = batch(i * 100, 100);
    for (NewTask& t : tasks) t.body = std::string(1000, 'x');
    error = store->enqueue(tasks, kNow);
    if (error.ok()) accepted += 100;
  }

  ASSERT_TRUE(is_resource_exhausted(error)) << error.to_string();
  EXPECT_NE(error.message().find("OOM"), std::string::npos) << error.to_string();
  ASSERT_GT(accepted, 0);
  for (int i = 0; i < accepted; ++i) {
    EXPECT_TRUE(store->get_task("task-" + std::to_string(i), kNow).ok()) << i;
  }
  ASSERT_EQ(server.command({"CONFIG", "SET", "maxmemory", "0"}), "OK");
  EXPECT_TRUE(store->enqueue(batch(1'000'000, 1), kNow).ok());
}

}  // namespace
}  // namespace runq
