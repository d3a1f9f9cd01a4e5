// Redis-specific behaviour of the redis:// store and of the redis-server test fixture. The
// general Store semantics are checked by tests/conformance/.
#include <gtest/gtest.h>

#include "support/redis_server.hpp"

namespace runq {
namespace {

using testing::RedisServer;
using testing::RedisServerOptions;

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

}  // namespace
}  // namespace runq
