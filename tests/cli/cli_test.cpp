// The `runq` tool run as a subprocess against a temporary SQLite store: output, exit codes
// and one-line errors of every admin command.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/message.hpp"
#include "runq/store.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using testing::CommandResult;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string runq_binary() {
  const char* dir = std::getenv("RUNQ_TEST_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/runq";
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

class CliTest : public ::testing::Test {
 protected:
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", url_});
    return testing::run_command(runq_binary(), args);
  }

  Store& store() {
    if (!store_) {
      auto opened = open_store(url_);
      EXPECT_TRUE(opened.ok()) << opened.status().to_string();
      store_ = std::move(opened).value();
    }
    return *store_;
  }

  // Puts a task straight into the dead-letter list through the Store API.
  std::string make_dead(const std::string& id, const std::string& reason) {
    internal::TaskMessage m;
    m.id = id;
    m.name = "add";
    m.args = "[1,2]";
    NewTask t{id, "default", 0, 0, 5, internal::encode_message(m)};
    EXPECT_TRUE(store().enqueue({&t, 1}, now()).ok());
    auto got = store().reserve({{"default"}, "test", 1, 30'000, now()});
    EXPECT_TRUE(got.ok() && got->size() == 1);
    Settlement s{Outcome::kDeadLetter, id, got->front().token, TaskState::kDead};
    s.reason = reason;
    EXPECT_TRUE(store().settle({&s, 1}, now()).ok());
    return id;
  }

  // Runs the task `id` to `state` with `rec` as its result record.
  void finish(const std::string& id, internal::ResultRecord rec) {
    auto got = store().reserve({{"default"}, "test-worker", 1, 30'000, now()});
    ASSERT_TRUE(got.ok() && got->size() == 1 && got->front().id == id);
    rec.id = id;
    Settlement s{Outcome::kAck, id, got->front().token, rec.state};
    s.result = internal::encode_result(rec);
    ASSERT_TRUE(store().settle({&s, 1}, now()).ok());
  }

  static Millis now() { return Clock::system().now_ms(); }

  runq::testing::TempDir dir_;
  std::string url_ = "sqlite:" + dir_.file("runq.db");
  std::unique_ptr<Store> store_;
};

TEST_F(CliTest, EnqueuePrintsTheTaskId) {
  CommandResult r = run({"enqueue", "add", "--args", "[2, 3]"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.size(), 27u) << r.out;  // 26-character id and a newline
  auto info = store().get_task(r.out.substr(0, 26), now());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, TaskState::kPending);
}

TEST_F(CliTest, EnqueueHonoursQueuePriorityAndId) {
  CommandResult r = run(
      {"enqueue", "add", "--args", "[1,1]", "--queue", "mail", "--priority", "7", "--id", "my-id"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "my-id\n");
  auto info = store().get_task("my-id", now());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->queue, "mail");
  EXPECT_EQ(info->priority, 7);
}

TEST_F(CliTest, EnqueueWithCountdownIsScheduledAndResultSaysWhen) {
  CommandResult e =
      run({"enqueue", "add", "--args", "[1,1]", "--countdown", "1h", "--id", "later"});
  ASSERT_EQ(e.exit_code, 0) << e.err;

  CommandResult r = run({"result", "later"});

  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("SCHEDULED"));
  EXPECT_THAT(r.out, HasSubstr("scheduled for"));
  EXPECT_THAT(r.out, ContainsRegex("scheduled for [-0-9T:.]+Z \\(in (1h|59m[0-9]+s)\\)"));
}

TEST_F(CliTest, EnqueueEtaWithOffsetIsStoredInUtc) {
  CommandResult r = run(
      {"enqueue", "add", "--eta", "2099-01-01T09:30:00+01:00", "--id", "eta", "--expires", "5m"});

  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = store().get_task("eta", now());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, TaskState::kScheduled);
  EXPECT_EQ(info->eta, 4'070'939'400'000);  // 2099-01-01T08:30:00Z
}

TEST_F(CliTest, EnqueueRejectsBadEtaAndPriority) {
  CommandResult eta = run({"enqueue", "add", "--eta", "tomorrow"});
  CommandResult priority = run({"enqueue", "add", "--priority", "12"});

  EXPECT_EQ(eta.exit_code, 2);
  EXPECT_THAT(eta.err, StartsWith("runq enqueue: invalid time 'tomorrow'"));
  EXPECT_EQ(priority.exit_code, 2);
  EXPECT_TRUE(one_line(priority.err)) << priority.err;
}

TEST_F(CliTest, ResultOfPendingTaskExplainsThatNoWorkerListens) {
  ASSERT_EQ(
      run({"enqueue", "add", "--args", "[1,1]", "--id", "t1", "--queue", "reports"}).exit_code, 0);

  CommandResult r = run({"result", "t1", "--json"});

  EXPECT_EQ(r.exit_code, 3);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["state"], "pending");
  EXPECT_THAT(j["why"].get<std::string>(), HasSubstr("no live worker listens on queue 'reports'"));
}

TEST_F(CliTest, ResultOfUnknownIdExits4) {
  CommandResult r = run({"result", "no-such-id"});

  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, StartsWith("runq result: unknown task id 'no-such-id'"));
}

TEST_F(CliTest, ResultOfSuccessShowsValueAndExits0) {
  ASSERT_EQ(run({"enqueue", "add", "--args", "[2,3]", "--id", "ok"}).exit_code, 0);
  internal::ResultRecord rec;
  rec.task = "add";
  rec.state = TaskState::kSuccess;
  rec.value = "5";
  rec.attempts = 1;
  finish("ok", rec);

  CommandResult human = run({"result", "ok"});
  CommandResult json = run({"result", "ok", "--json"});

  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, HasSubstr("SUCCESS"));
  EXPECT_THAT(human.out, HasSubstr("value:     5"));
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out)["value"], 5);
}

TEST_F(CliTest, ResultOfFailureShowsErrorHistoryAndExits1) {
  ASSERT_EQ(run({"enqueue", "fail", "--id", "bad"}).exit_code, 0);
  internal::ResultRecord rec;
  rec.task = "fail";
  rec.state = TaskState::kFailure;
  rec.error_type = "std::runtime_error";
  rec.error = "third time";
  rec.attempts = 3;
  rec.errors = {{1, "std::runtime_error", "first time", now()},
                {2, "std::runtime_error", "second time", now()},
                {3, "std::runtime_error", "third time", now()}};
  finish("bad", rec);

  CommandResult r = run({"result", "bad"});

  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FAILURE"));
  EXPECT_THAT(r.out, HasSubstr("attempt 1 at"));
  EXPECT_THAT(r.out, HasSubstr("first time"));
  EXPECT_THAT(r.out, HasSubstr("second time"));
  EXPECT_THAT(r.out, HasSubstr("error:     std::runtime_error: third time"));
}

TEST_F(CliTest, ResultWaitTimesOutWithExit3) {
  ASSERT_EQ(run({"enqueue", "add", "--id", "slow"}).exit_code, 0);

  CommandResult r = run({"result", "slow", "--wait", "200ms"});

  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("PENDING"));
}

TEST_F(CliTest, StatusJsonShowsPendingCount) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run({"enqueue", "add", "--queue", "q1"}).exit_code, 0);

  CommandResult r = run({"status", "--json"});

  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["queues"].size(), 1u);
  EXPECT_EQ(j["queues"][0]["queue"], "q1");
  EXPECT_EQ(j["queues"][0]["pending"], 3);
  EXPECT_TRUE(j["workers"].empty());
  EXPECT_EQ(j["throughput"]["completed"], 0);
}

TEST_F(CliTest, StatusHumanListsQueues) {
  ASSERT_EQ(run({"enqueue", "add", "--queue", "emails"}).exit_code, 0);

  CommandResult r = run({"status"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("emails"));
  EXPECT_THAT(r.out, HasSubstr("workers: none alive"));
}

TEST_F(CliTest, DeadListShowsReason) {
  make_dead("d1", "unknown task 'nope'");

  CommandResult r = run({"dead", "list", "--json"});

  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], "d1");
  EXPECT_EQ(j[0]["reason"], "unknown task 'nope'");
  EXPECT_EQ(j[0]["task"], "add");
}

TEST_F(CliTest, DeadRetryRequeuesTheGivenId) {
  make_dead("d1", "boom");

  CommandResult r = run({"dead", "retry", "d1"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "requeued 1 dead task(s)\n");
  EXPECT_EQ(store().get_task("d1", now())->state, TaskState::kPending);
}

TEST_F(CliTest, DeadRetryOfUnknownIdFails) {
  CommandResult r = run({"dead", "retry", "nope"});

  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
}

TEST_F(CliTest, DeadRetryNeedsIdsOrAll) {
  CommandResult r = run({"dead", "retry"});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("runq dead retry: "));
}

TEST_F(CliTest, DeadPurgeThenRetryAll) {
  make_dead("d1", "boom");
  make_dead("d2", "boom");

  CommandResult purge = run({"dead", "purge"});
  make_dead("d3", "boom");
  CommandResult retry = run({"dead", "retry", "--all"});
  CommandResult list = run({"dead", "list"});

  EXPECT_EQ(purge.out, "removed 2 dead task(s)\n");
  EXPECT_EQ(retry.out, "requeued 1 dead task(s)\n");
  EXPECT_EQ(list.out, "no dead tasks\n");
  EXPECT_EQ(store().get_task("d3", now())->state, TaskState::kPending);
}

TEST_F(CliTest, PurgeQueuePrintsHowManyWereRemoved) {
  for (int i = 0; i < 2; ++i) ASSERT_EQ(run({"enqueue", "add", "--queue", "junk"}).exit_code, 0);
  ASSERT_EQ(run({"enqueue", "add", "--queue", "keep"}).exit_code, 0);

  CommandResult r = run({"purge", "junk"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed 2 task(s) from queue 'junk'\n");
}

TEST_F(CliTest, RevokeOfQueuedTaskEndsItRevokedAndAgainIsANoOp) {
  CommandResult e = run({"enqueue", "add", "--args", "[1, 2]", "--id", "to-revoke"});
  ASSERT_EQ(e.exit_code, 0) << e.err;

  CommandResult r = run({"revoke", "to-revoke"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "revoked to-revoke: it had not started and will never run\n");
  auto info = store().get_task("to-revoke", now());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, TaskState::kRevoked);
  CommandResult again = run({"revoke", "to-revoke", "--terminate"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "to-revoke is already revoked: nothing to revoke\n");
}

TEST_F(CliTest, RevokeOfUnknownIdExits4) {
  CommandResult r = run({"revoke", "never-enqueued"});

  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no task 'never-enqueued'"));
}

TEST_F(CliTest, ScheduleNextPrintsFireTimes) {
  CommandResult r =
      run({"schedule", "next", "*/15 * * * *", "--from", "2026-01-01T00:00:00Z", "-n", "3"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "2026-01-01T00:15:00+00:00\n2026-01-01T00:30:00+00:00\n2026-01-01T00:45:00+00:00\n");
}

TEST_F(CliTest, ScheduleNextUsesTheZoneOffsetAcrossDst) {
  CommandResult r = run({"schedule", "next", "0 8 * * *", "--tz", "Europe/Paris", "--from",
                         "2026-03-28T00:00:00Z", "-n", "2"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2026-03-28T08:00:00+01:00\n2026-03-29T08:00:00+02:00\n");
}

TEST_F(CliTest, ScheduleNextRejectsBadExpressionInOneLine) {
  CommandResult r = run({"schedule", "next", "*/0 * * * *"});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("minute field"));
}

TEST_F(CliTest, ScheduleListPauseAndResume) {
  ASSERT_TRUE(store()
                  .put_schedule_info("nightly",
                                     R"({"expression":"0 3 * * *","zone":"UTC","task":"report"})")
                  .ok());

  CommandResult paused = run({"schedule", "pause", "nightly"});
  CommandResult list = run({"schedule", "list", "--json"});
  CommandResult resumed = run({"schedule", "resume", "nightly"});
  CommandResult human = run({"schedule", "list"});

  EXPECT_EQ(paused.exit_code, 0) << paused.err;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "nightly");
  EXPECT_EQ(j[0]["expression"], "0 3 * * *");
  EXPECT_EQ(j[0]["paused"], true);
  EXPECT_EQ(resumed.exit_code, 0);
  EXPECT_THAT(human.out, HasSubstr("nightly"));
  EXPECT_THAT(human.out, HasSubstr("T03:00:00.000Z"));
}

TEST_F(CliTest, SchedulePauseOfUnknownNameFails) {
  CommandResult r = run({"schedule", "pause", "nope"});

  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "runq schedule pause: unknown schedule 'nope'\n");
}

TEST_F(CliTest, BadDurationIsOneLineUsageError) {
  CommandResult r = run({"enqueue", "add", "--countdown", "10 parsecs"});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, StartsWith("runq enqueue: --countdown: invalid duration"));
}

TEST_F(CliTest, BadJsonIsOneLineUsageError) {
  CommandResult bad = run({"enqueue", "add", "--args", "[1,"});
  CommandResult not_array = run({"enqueue", "add", "--args", "{\"a\":1}"});

  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(one_line(bad.err)) << bad.err;
  EXPECT_THAT(bad.err, StartsWith("runq enqueue: --args: invalid JSON"));
  EXPECT_EQ(not_array.exit_code, 2);
  EXPECT_THAT(not_array.err, HasSubstr("expected a JSON array"));
}

TEST_F(CliTest, ArgsComeFromAFileOrStdin) {
  const std::string big(200'000, 'x');  // too large for comfort on a command line
  std::ofstream(dir_.file("args.json")) << "[\"" << big << "\", 7]";
  std::ofstream(dir_.file("stdin.json")) << "[1, 2]";

  CommandResult from_file =
      run({"enqueue", "add", "--args", "@" + dir_.file("args.json"), "--id", "f"});
  CommandResult from_stdin = testing::run_command(
      "/bin/sh", {"-c", runq_binary() + " --store " + url_ + " enqueue add --args - --id s < " +
                            dir_.file("stdin.json")});

  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  auto f = store().get_task("f", now());
  auto s = store().get_task("s", now());
  ASSERT_TRUE(f.ok() && s.ok());
  auto fm = internal::decode_message(f->body);
  auto sm = internal::decode_message(s->body);
  ASSERT_TRUE(fm.ok() && sm.ok());
  EXPECT_EQ(fm->args, "[\"" + big + "\",7]");
  EXPECT_EQ(sm->args, "[1,2]");
}

TEST_F(CliTest, ArgsOverThePayloadLimitAreAUsageError) {
  std::ofstream(dir_.file("huge.json")) << "[\"" << std::string(2 << 20, 'x') << "\"]";

  CommandResult r = run({"enqueue", "add", "--args", "@" + dir_.file("huge.json")});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("over the limit of 1048576 bytes"));
}

TEST_F(CliTest, BadArgsFilesAreOneLineUsageErrors) {
  std::ofstream(dir_.file("bad.json")) << "[1,\n2";
  CommandResult missing = run({"enqueue", "add", "--args", "@" + dir_.file("none.json")});
  CommandResult bad = run({"enqueue", "add", "--args", "@" + dir_.file("bad.json")});
  CommandResult empty = run({"enqueue", "add", "--args", "@"});

  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
  EXPECT_THAT(missing.err,
              HasSubstr("cannot read '" + dir_.file("none.json") + "': No such file or directory"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(one_line(bad.err)) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--args @" + dir_.file("bad.json") + ": invalid JSON '[1, 2'"));
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("give a file name"));
  auto stats = store().stats(now());
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->queues.empty());  // nothing was enqueued
}

TEST_F(CliTest, BadStorePathIsOneLineError) {
  CommandResult r = testing::run_command(
      runq_binary(), {"--store", "sqlite:" + dir_.file("missing/dir/x.db"), "status"});

  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_THAT(r.err, StartsWith("runq status: "));
  EXPECT_THAT(r.err, HasSubstr("missing/dir/x.db"));
}

TEST_F(CliTest, UnknownStoreSchemeIsUsageError) {
  CommandResult r = testing::run_command(runq_binary(), {"--store", "mongo://x", "status"});

  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
}

TEST_F(CliTest, StoreComesFromEnvironmentWhenNoFlag) {
  CommandResult r = testing::run_command(
      "/usr/bin/env", {"RUNQ_STORE=" + url_, runq_binary(), "enqueue", "add", "--id", "via-env"});

  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(store().get_task("via-env", now()).ok());
}

TEST_F(CliTest, UnknownCommandAndMissingArgumentAreUsageErrors) {
  CommandResult unknown = run({"frobnicate"});
  CommandResult missing = run({"result"});
  CommandResult none = run({});

  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "runq: unknown command 'frobnicate' (see --help)\n");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, StartsWith("runq result: "));
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
  EXPECT_EQ(none.exit_code, 2);
}

TEST_F(CliTest, WorkerOfThePlainToolExplainsWhereToRunIt) {
  CommandResult r = run({"worker"});

  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "runq worker: no tasks are registered in this binary; run the worker from your "
            "application's binary (app.main)\n");
}

TEST_F(CliTest, HelpExitsZero) {
  CommandResult r = run({"--help"});

  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("enqueue"));
}

}  // namespace
}  // namespace runq
