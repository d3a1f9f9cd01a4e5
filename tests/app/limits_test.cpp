// Rate limits and per-key concurrency from the typed API on a real SQLite store: malformed
// rates refused at registration (with a message), the keys of a call reaching the store, and
// the limits enforced when workers reserve.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "runq/runq.hpp"
#include "support/status_matchers.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TempDir;

TEST(ParseRateLimit, AcceptsPerSecondMinuteAndHour) {
  EXPECT_EQ(*parse_rate_limit("100/s"), (RateLimit{100, 1000}));
  EXPECT_EQ(*parse_rate_limit("10/m"), (RateLimit{10, 60'000}));
  EXPECT_EQ(*parse_rate_limit(" 3 / h "), (RateLimit{3, 3'600'000}));
}

TEST(ParseRateLimit, RefusesMalformedRatesWithTheAcceptedForm) {
  for (const char* bad : {"10/x", "-1/s", "0/s", "", "/s", "10", "1.5/s", "10/ss", "x/s"}) {
    Status s = parse_rate_limit(bad).status();
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << "'" << bad << "'";
    EXPECT_THAT(s.message(), HasSubstr("N/s, N/m or N/h")) << "'" << bad << "'";
  }
}

class LimitsTest : public ::testing::Test {
 protected:
  LimitsTest()
      : app_(AppOptions{.store_url = "sqlite:" + dir_.file("runq.db"), .clock = &clock_}) {}

  std::vector<std::string> reserve_all(const std::string& queue = "default") {
    Result<std::vector<Delivery>> got =
        app_.store()->reserve({{queue}, "w", 100, 3'600'000, clock_.now_ms()});
    EXPECT_TRUE(got.ok()) << got.status().message();
    std::vector<std::string> ids;
    if (got.ok()) {
      for (const Delivery& d : *got) ids.push_back(d.id);
    }
    return ids;
  }

  TempDir dir_;
  ManualClock clock_;
  App app_;
};

TEST_F(LimitsTest, MalformedRateIsRefusedAtRegistration) {
  for (const char* bad : {"10/x", "-1/s", "0/s"}) {
    try {
      app_.task(
          std::string("t") + bad, [] { return 0; }, TaskOptions{}.rate_limit(bad));
      ADD_FAILURE() << "registered a task with rate '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("rate limit '" + std::string(bad) + "'"));
      EXPECT_THAT(e.what(), HasSubstr("registering task"));
    }
  }
}

TEST_F(LimitsTest, NegativeMaxConcurrencyIsRefusedAtRegistration) {
  EXPECT_THROW(app_.task(
                   "t", [] { return 0; }, TaskOptions{}.max_concurrency(-1)),
               Error);
}

TEST_F(LimitsTest, RateLimitKeysSplitTheBucketOfATask) {
  auto send = app_.task(
      "send", [](int) { return 0; }, TaskOptions{}.rate_limit("1/m"));
  std::string a1 = send.apply(EnqueueOptions{}.rate_limit_key("acme"), 1).id();
  std::string a2 = send.apply(EnqueueOptions{}.rate_limit_key("acme"), 2).id();
  std::string b1 = send.apply(EnqueueOptions{}.rate_limit_key("bolt"), 3).id();

  EXPECT_EQ(reserve_all(), (std::vector<std::string>{a1, b1}));
  clock_.advance(60'000);
  EXPECT_EQ(reserve_all(), std::vector<std::string>{a2});

  Result<std::vector<RateLimitState>> states = app_.store()->rate_limits(clock_.now_ms());
  ASSERT_TRUE(states.ok()) << states.status().message();
  ASSERT_EQ(states->size(), 2u);
  EXPECT_EQ((*states)[0].key, "send/acme");
  EXPECT_EQ((*states)[1].key, "send/bolt");
}

TEST_F(LimitsTest, ConcurrencyKeyWithoutMaxConcurrencyIsRefused) {
  auto sync = app_.task("sync", [](int) { return 0; });
  EXPECT_THROW(sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 1), Error);
}

TEST_F(LimitsTest, OversizedKeyIsRefused) {
  auto sync = app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.max_concurrency(1));
  EXPECT_THROW(sync.apply(EnqueueOptions{}.concurrency_key(std::string(201, 'k')), 1), Error);
}

TEST_F(LimitsTest, ExplainSaysAParkedTaskWaitsForASlot) {
  auto sync = app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.max_concurrency(1));
  sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 1);
  std::string second = sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 2).id();
  reserve_all();

  Result<TaskExplanation> e = app_.explain(second);

  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_THAT(e->why(), HasSubstr("waits for a concurrency slot"));
}

TEST_F(LimitsTest, MaxConcurrencyPerKey) {
  auto sync = app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.max_concurrency(1));
  std::string u1 = sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 1).id();
  sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 2);
  std::string u2 = sync.apply(EnqueueOptions{}.concurrency_key("user-2"), 3).id();

  EXPECT_EQ(reserve_all(), (std::vector<std::string>{u1, u2}));
  EXPECT_TRUE(reserve_all().empty());
}

// A task registered unique and with a per-user slot: a second call with the same arguments
// returns the first task (added() false) while it waits for its slot, and the limits of each
// task added hold.
TEST_F(LimitsTest, UniqueTaskWithMaxConcurrencyKeepsItsKeyWhileParked) {
  auto sync = app_.task(
      "sync", [](int) { return 0; }, TaskOptions{}.unique().max_concurrency(1));
  auto first = sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 1);
  auto second = sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 2);
  ASSERT_TRUE(first.added());
  ASSERT_TRUE(second.added());

  EXPECT_EQ(reserve_all(), std::vector<std::string>{first.id()});  // second is parked
  auto again = sync.apply(EnqueueOptions{}.concurrency_key("user-1"), 2);

  EXPECT_FALSE(again.added());
  EXPECT_EQ(again.id(), second.id());
  EXPECT_TRUE(reserve_all().empty());
}

}  // namespace
}  // namespace runq
