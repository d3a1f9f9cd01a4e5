// Tokens and scopes, the loopback rule, slow clients and many connections, over real HTTP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "http/http_fixture.hpp"
#include "support/wait.hpp"

namespace runq::testing {
namespace {

using Security = HttpFixture;

const std::string kAdmin = "admin-token-0123456789abcdef";
const std::string kRead = "read-token-0123456789abcdef";

ServeOptions with_tokens() {
  ServeOptions o;
  o.admin_token = kAdmin;
  o.read_token = kRead;
  return o;
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

TEST_F(Security, MissingTokenIs401) {
  serve(with_tokens());

  auto r = get("/api/v1/tasks/x");

  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(error_code(r), "unauthorized");
}

TEST_F(Security, WrongTokenIs401) {
  serve(with_tokens());

  auto r = get("/api/v1/tasks/x", bearer(kAdmin + "x"));

  EXPECT_EQ(r->status, 401);
}

TEST_F(Security, ReadTokenReadsButCannotEnqueue) {
  serve(with_tokens());

  auto read = get("/api/v1/tasks/x", bearer(kRead));
  auto write = post("/api/v1/tasks", R"({"name": "a"})", bearer(kRead));

  EXPECT_EQ(read->status, 404);
  EXPECT_EQ(write->status, 403);
  EXPECT_EQ(error_code(write), "forbidden");
}

TEST_F(Security, AdminTokenEnqueues) {
  serve(with_tokens());

  auto r = post("/api/v1/tasks", R"({"name": "a"})", bearer(kAdmin));

  EXPECT_EQ(r->status, 201);
}

TEST_F(Security, HealthNeedsNoToken) {
  serve(with_tokens());

  EXPECT_EQ(get("/healthz")->status, 200);
  EXPECT_EQ(get("/readyz")->status, 200);
}

TEST_F(Security, PublicAddressWithoutTokenIsRefused) {
  ServeOptions o;
  o.bind = "0.0.0.0";
  o.port = 0;

  auto s = HttpServer::start(app_, o);

  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_invalid_argument(s.status()));
  EXPECT_NE(s.status().message().find("without a token"), std::string::npos);
}

TEST_F(Security, NoCorsHeadersUnlessConfigured) {
  serve();

  auto r = get("/healthz", {{"Origin", "https://evil.example"}});

  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
}

TEST_F(Security, CorsForAConfiguredOrigin) {
  ServeOptions o;
  o.cors_origins = {"https://app.example"};
  serve(o);

  auto r = get("/healthz", {{"Origin", "https://app.example"}});

  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
}

// A connected socket, or -1. `nonblocking`: the connect is only started.
int connect_to(int port, bool nonblocking = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      !(nonblocking && errno == EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int open_fds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

TEST_F(Security, StalledRequestIsTimedOutAndItsThreadFreed) {
  ServeOptions o;
  o.threads = 1;  // the stalled client holds the only thread until it is cut off
  o.read_timeout = std::chrono::milliseconds(300);
  serve(o);
  int fd = connect_to(server_->port());
  ASSERT_GE(fd, 0);
  std::string head = "POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na";
  ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));

  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, 5000);  // the server closes (or answers) within its read timeout
  char buf[256];
  ssize_t n = ready > 0 ? ::read(fd, buf, sizeof buf) : -1;
  ::close(fd);

  EXPECT_EQ(ready, 1);
  EXPECT_GE(n, 0);
  EXPECT_EQ(get("/healthz")->status, 200);  // the one thread serves again
}

TEST_F(Security, ThousandConnectionsAreBoundedAndLeaveNoFds) {
  ServeOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  serve(o);
  ASSERT_EQ(get("/healthz")->status, 200);
  client_->stop();
  int before = open_fds();
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    int fd = connect_to(server_->port(), true);
    if (fd >= 0) fds.push_back(fd);
  }

  for (int fd : fds) ::close(fd);

  EXPECT_GT(fds.size(), 100u);
  EXPECT_TRUE(wait_until([&] { return open_fds() <= before; }, std::chrono::seconds(30)))
      << open_fds() << " fds open, " << before << " before";
  EXPECT_EQ(get("/healthz")->status, 200);
}

}  // namespace
}  // namespace runq::testing
