// `runq queue pause|resume|limit|list` and the enqueue exit code of a full queue, run as a
// subprocess against a temporary SQLite store.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

class QueueCmdTest : public ::testing::Test {
 protected:
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", url_});
    return testing::run_command(runq_binary(), args);
  }

  runq::testing::TempDir dir_;
  std::string url_ = "sqlite:" + dir_.file("runq.db");
};

TEST_F(QueueCmdTest, PauseShowsInStatusAndResumeClearsIt) {
  ASSERT_EQ(run({"enqueue", "add", "--queue", "mail"}).exit_code, 0);

  CommandResult paused = run({"queue", "pause", "mail"});

  EXPECT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_THAT(paused.out, HasSubstr("queue 'mail' paused"));
  CommandResult status = run({"status", "--json", "--sample", "0"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json j = nlohmann::json::parse(status.out);
  ASSERT_EQ(j["queue_controls"].size(), 1u);
  EXPECT_EQ(j["queue_controls"][0]["queue"], "mail");
  EXPECT_EQ(j["queue_controls"][0]["paused"], true);
  EXPECT_THAT(run({"status", "--sample", "0"}).out, HasSubstr("queue 'mail': PAUSED"));
  ASSERT_EQ(run({"queue", "resume", "mail"}).exit_code, 0);
  EXPECT_EQ(run({"queue", "list"}).out, "no queue is paused or bounded\n");
}

TEST_F(QueueCmdTest, EnqueueIntoAFullQueueExits5WithTheReason) {
  ASSERT_EQ(run({"queue", "limit", "mail", "1"}).exit_code, 0);
  ASSERT_EQ(run({"enqueue", "add", "--queue", "mail"}).exit_code, 0);

  CommandResult r = run({"enqueue", "add", "--queue", "mail"});

  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr("queue 'mail' is full (1 tasks)"));
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
}

TEST_F(QueueCmdTest, LimitListsAndZeroRemovesIt) {
  ASSERT_EQ(run({"queue", "limit", "mail", "100"}).exit_code, 0);

  CommandResult list = run({"queue", "list", "--json"});

  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["max_length"], 100);
  ASSERT_EQ(run({"queue", "limit", "mail", "0"}).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(run({"queue", "list", "--json"}).out).size(), 0u);
}

TEST_F(QueueCmdTest, NegativeLimitIsAUsageError) {
  CommandResult r = run({"queue", "limit", "mail", "-3"});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("queue limit"));
}

// Unique jobs: a held key prints the existing task's id on stdout and says so on stderr.
TEST_F(QueueCmdTest, EnqueueWithAHeldUniqueKeyPrintsTheExistingId) {
  CommandResult first = run({"enqueue", "sync", "--args", "[42]", "--unique-key", "sync-42"});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  CommandResult second = run({"enqueue", "sync", "--args", "[42]", "--unique-key", "sync-42",
                              "--unique-for", "10m", "--unique-until", "finish"});

  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_THAT(second.err, HasSubstr("not added: task " + first.out.substr(0, first.out.size() - 1) +
                                    " holds its unique key"));
  EXPECT_THAT(run({"enqueue", "sync", "--unique-key", ""}).err, HasSubstr("unique key is empty"));
  EXPECT_NE(run({"enqueue", "sync", "--unique-key", "k", "--unique-until", "end"}).exit_code, 0);
}

}  // namespace
}  // namespace runq
