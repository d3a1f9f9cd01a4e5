// examples/flask_precompute end to end: a Redis server, the example's runq worker (with beat)
// and its Flask app on 127.0.0.1, checked by tests/celery/flask_check.py over HTTP.
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace runq {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(FlaskPrecomputeExample, PageServesThePrecomputedValueAndTheJobResultArrives) {
  testing::CommandResult deps =
      testing::run_command("/usr/bin/python3", {"-c", "import celery, flask"}, 60s);
  if (deps.exit_code != 0) {
    if (testing::running_under_ci()) FAIL() << "python3-celery and python3-flask are required";
    GTEST_SKIP() << "python3-celery or python3-flask not installed";
  }
  testing::RedisServer redis;
  RUNQ_START_REDIS_OR_SKIP(redis);
  testing::TempDir dir;
  const std::string port = std::to_string(redis.port());
  const std::string db = dir.file("precompute.db");
  testing::ChildProcess worker;
  ASSERT_TRUE(worker.start(
      FLASK_PRECOMPUTE_WORKER,
      {"worker", "--beat", "-c", "2", "--store",
       "celery+redis://127.0.0.1:" + port + "/0?backend=redis://127.0.0.1:" + port + "/1"},
      dir.file("worker.log"), dir.file("worker.log"),
      {"PRECOMPUTE_DB=" + db, "PRECOMPUTE_EVERY=2"}));
  int flask_port = testing::pick_free_port();
  ASSERT_NE(flask_port, 0);
  testing::ChildProcess flask;
  ASSERT_TRUE(flask.start("/usr/bin/python3", {FLASK_PRECOMPUTE_APP}, dir.file("flask.log"),
                          dir.file("flask.log"),
                          {"PORT=" + std::to_string(flask_port),
                           "REDIS_URL=redis://127.0.0.1:" + port, "PRECOMPUTE_DB=" + db}));
  testing::CommandResult check =
      testing::run_command("/usr/bin/python3", {FLASK_CHECK, std::to_string(flask_port)}, 180s);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\nworker:\n"
                                << testing::read_file(dir.file("worker.log")) << "\nflask:\n"
                                << testing::read_file(dir.file("flask.log"));
  EXPECT_THAT(check.out, HasSubstr("PASS flask_precompute"));
}

}  // namespace
}  // namespace runq
