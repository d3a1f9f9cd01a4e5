// `runq status` shows each rate-limit bucket with its limit and current rate (text and JSON),
// run as a subprocess against a temporary SQLite store whose bucket a reserve has used.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runq/clock.hpp"
#include "runq/store.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;

std::string runq_binary() {
  const char* dir = std::getenv("RUNQ_TEST_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/runq";
}

TEST(RateStatusTest, StatusShowsEachRateLimitAndItsCurrentRate) {
  runq::testing::TempDir dir;
  const std::string url = "sqlite:" + dir.file("runq.db");
  {
    Result<std::unique_ptr<Store>> store = open_store(url);
    ASSERT_TRUE(store.ok()) << store.status().message();
    std::vector<NewTask> tasks(2);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      tasks[i].id = "t" + std::to_string(i);
      tasks[i].body = "{}";
      tasks[i].limits.rate_key = "charge";
      tasks[i].limits.rate_count = 100;
      tasks[i].limits.rate_period_ms = 60'000;
    }
    const Millis now = Clock::system().now_ms();
    ASSERT_TRUE((*store)->enqueue(tasks, now).ok());
    ASSERT_TRUE((*store)->reserve({{"default"}, "w", 10, 60'000, now}).ok());
  }

  CommandResult text = testing::run_command(runq_binary(), {"--store", url, "status"});
  CommandResult json =
      testing::run_command(runq_binary(), {"--store", url, "status", "--json", "--sample", "0"});

  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("rate limit 'charge': 100/m"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["rate_limits"].size(), 1u);
  EXPECT_EQ(j["rate_limits"][0]["key"], "charge");
  EXPECT_EQ(j["rate_limits"][0]["count"], 100);
  EXPECT_EQ(j["rate_limits"][0]["period_ms"], 60'000);
  EXPECT_GT(j["rate_limits"][0]["next_free_ms"].get<std::int64_t>(), 0);
}

}  // namespace
}  // namespace runq
