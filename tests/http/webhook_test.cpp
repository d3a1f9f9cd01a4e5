// Push tasks (runq/webhook.hpp): a real worker POSTs to a real HTTP server on 127.0.0.1 that
// answers as the test scripts it; the task's final state, attempts and the requests the
// server saw are checked.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runq/app.hpp"
#include "runq/error.hpp"
#include "runq/webhook.hpp"
#include "runq/worker.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace runq::testing {
namespace {

struct Seen {
  std::string path, body, idempotency_key, attempt, timestamp, signature, auth;
};

// An HTTP server on a free loopback port that answers each POST with the next scripted
// (status, Retry-After, body), then 200 once the script is used up.
class Receiver {
 public:
  struct Answer {
    int status = 200;
    std::string retry_after;
    std::string body = "ok";
  };

  Receiver() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Answer a;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(
            {req.path, req.body, req.get_header_value("Idempotency-Key"),
             req.get_header_value("X-Runq-Attempt"), req.get_header_value("X-Runq-Timestamp"),
             req.get_header_value("X-Runq-Signature"), req.get_header_value("Authorization")});
        if (!script_.empty()) {
          a = script_.front();
          script_.pop_front();
        }
      }
      res.status = a.status;
      if (!a.retry_after.empty()) res.set_header("Retry-After", a.retry_after);
      res.set_content(a.body, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    wait_until([this] { return server_.is_running(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  void script(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    script_.assign(answers.begin(), answers.end());
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::deque<Answer> script_;
  std::vector<Seen> seen_;
};

class WebhookTest : public ::testing::Test {
 protected:
  // Registers the webhook task with fast retries and starts a worker.
  void start(WebhookOptions o) {
    o.task = TaskOptions{}
                 .max_retries(o.task.max_retries())
                 .backoff(Backoff::fixed(std::chrono::milliseconds(10)))
                 .retry_on<WebhookUnavailable>();
    hook_ = std::make_unique<WebhookTask>(register_webhook_task(app_, std::move(o)));
    worker_ = std::make_unique<Worker>(app_, WorkerOptions{.concurrency = 2});
    ASSERT_TRUE(worker_->start().ok());
  }
  // The task's status once it is final (a failed test if it is not within 20 s).
  TaskStatus finish(const std::string& url, const nlohmann::json& payload) {
    AsyncResult<nlohmann::json> r = hook_->delay(url, payload);
    TaskStatus st;
    EXPECT_TRUE(wait_until(
        [&] {
          st = r.status();
          return is_final(st.state);
        },
        std::chrono::seconds(20)))
        << "state " << task_state_name(st.state);
    return st;
  }
  static WebhookOptions local(int max_retries = 8) {
    WebhookOptions o;
    o.allowed_hosts = {"127.0.0.1"};
    o.task = TaskOptions{}.max_retries(max_retries);
    return o;
  }

  TempDir dir_;
  App app_{AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}};
  Receiver receiver_;
  std::unique_ptr<WebhookTask> hook_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WebhookTest, DeliversThePayloadWithAnIdempotencyKeyAndKeepsTheAnswer) {
  WebhookOptions o = local();
  o.headers = {{"Authorization", "Bearer receiver-token"}};
  start(o);
  receiver_.script({{200, "", R"({"received":true})"}});

  TaskStatus st = finish(receiver_.url("/hooks/orders?src=runq"), {{"order", 42}});

  ASSERT_EQ(st.state, TaskState::kSuccess) << st.error;
  nlohmann::json result = nlohmann::json::parse(st.value);
  EXPECT_EQ(result["status"], 200);
  EXPECT_EQ(result["body"], R"({"received":true})");
  std::vector<Seen> seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/hooks/orders");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), (nlohmann::json{{"order", 42}}));
  EXPECT_EQ(seen[0].idempotency_key, st.id);
  EXPECT_EQ(seen[0].attempt, "1");
  EXPECT_EQ(seen[0].auth, "Bearer receiver-token");
  EXPECT_TRUE(seen[0].signature.empty());
}

TEST_F(WebhookTest, ServerErrorsAndRateLimitsAreRetriedWithTheSameKey) {
  start(local());
  receiver_.script({{503, "", "down"}, {429, "0", "slow down"}, {500, "", "oops"}, {204, "", ""}});

  TaskStatus st = finish(receiver_.url("/h"), nlohmann::json::array({1, 2}));

  ASSERT_EQ(st.state, TaskState::kSuccess) << st.error;
  std::vector<Seen> seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 4u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].idempotency_key, st.id);
    EXPECT_EQ(seen[i].attempt, std::to_string(i + 1));
  }
  EXPECT_EQ(st.attempts, 4);
}

TEST_F(WebhookTest, AClientErrorFailsAtOnceNamingTheStatusAndBody) {
  start(local());
  receiver_.script({{422, "", "order 42 is unknown"}});

  TaskStatus st = finish(receiver_.url("/h"), {{"order", 42}});

  ASSERT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::WebhookError");
  EXPECT_NE(st.error.find("answered 422: order 42 is unknown"), std::string::npos) << st.error;
  EXPECT_EQ(receiver_.seen().size(), 1u);
}

TEST_F(WebhookTest, RetriesEndInFailureWhenTheEndpointStaysDown) {
  start(local(/*max_retries=*/2));
  receiver_.script({{502, "", "a"}, {502, "", "b"}, {502, "", "c"}, {502, "", "d"}});

  TaskStatus st = finish(receiver_.url("/h"), nullptr);

  ASSERT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::WebhookUnavailable");
  EXPECT_NE(st.error.find("answered 502: c"), std::string::npos) << st.error;
  EXPECT_EQ(receiver_.seen().size(), 3u);  // 1 + 2 retries
}

TEST_F(WebhookTest, AClosedPortIsRetriedThenFails) {
  start(local(/*max_retries=*/1));
  const int closed = pick_free_port();  // nothing listens there

  TaskStatus st = finish("http://127.0.0.1:" + std::to_string(closed) + "/h", nullptr);

  ASSERT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::WebhookUnavailable");
  EXPECT_NE(st.error.find("failed: Connection"), std::string::npos) << st.error;
  EXPECT_EQ(st.attempts, 2);
}

TEST_F(WebhookTest, HostsNotAllowedAndBadUrlsFailWithoutARequest) {
  WebhookOptions o = local();
  o.allowed_hosts = {"*.example.com"};
  start(o);

  TaskStatus other = finish(receiver_.url("/h"), nullptr);
  TaskStatus ftp = finish("ftp://files.example.com/x", nullptr);
  TaskStatus creds = finish("http://user:pw@a.example.com/x", nullptr);
  TaskStatus port = finish("http://a.example.com:99999/x", nullptr);

  for (const TaskStatus* st : {&other, &ftp, &creds, &port}) {
    EXPECT_EQ(st->state, TaskState::kFailure);
    EXPECT_EQ(st->error_type, "runq::WebhookError");
    EXPECT_EQ(st->attempts, 1);
  }
  EXPECT_NE(other.error.find("webhook host '127.0.0.1' is not allowed"), std::string::npos)
      << other.error;
  EXPECT_NE(ftp.error.find("scheme 'ftp' is not http(s)"), std::string::npos);
  EXPECT_NE(creds.error.find("credentials in the URL"), std::string::npos);
  EXPECT_NE(port.error.find("invalid port '99999'"), std::string::npos);
  EXPECT_TRUE(receiver_.seen().empty());
}

TEST_F(WebhookTest, WrongArgumentsFailAsBadArguments) {
  start(local());
  AsyncResult<nlohmann::json> r = app_.send(std::string(kWebhookTask), nlohmann::json::array({42}));
  TaskStatus st;
  ASSERT_TRUE(wait_until([&] {
    st = r.status();
    return is_final(st.state);
  }));
  EXPECT_EQ(st.state, TaskState::kFailure);
  EXPECT_EQ(st.error_type, "runq::BadArguments");
}

TEST_F(WebhookTest, ASecretSignsTimestampAndBody) {
  WebhookOptions o = local();
  o.secret = "s3cret";
  start(o);

  TaskStatus st = finish(receiver_.url("/h"), {{"a", 1}});

  ASSERT_EQ(st.state, TaskState::kSuccess);
  std::vector<Seen> seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 1u);
  const std::string signed_text = seen[0].timestamp + "." + seen[0].body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), "s3cret", 6, reinterpret_cast<const unsigned char*>(signed_text.data()),
       signed_text.size(), mac, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", mac[i]);
    hex += b;
  }
  EXPECT_FALSE(seen[0].timestamp.empty());
  EXPECT_EQ(seen[0].signature, "sha256=" + hex);
}

TEST_F(WebhookTest, RunqWorkerWithWebhooksDelivers) {
  const char* bin = std::getenv("RUNQ_TEST_BINARY_DIR");
  if (bin == nullptr) GTEST_SKIP() << "RUNQ_TEST_BINARY_DIR not set (run through ctest)";
  const std::string store = "sqlite:" + dir_.file("runq.db");
  AsyncResult<nlohmann::json> r = app_.send(
      std::string(kWebhookTask), nlohmann::json::array({receiver_.url("/cli"), {{"x", 1}}}));

  CommandResult run = run_command(
      std::string(bin) + "/runq",
      {"--store", store, "worker", "--webhooks", "127.0.0.1", "--max-tasks", "1", "-c", "1"});

  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(r.status().state, TaskState::kSuccess);
  ASSERT_EQ(receiver_.seen().size(), 1u);
  EXPECT_EQ(receiver_.seen()[0].path, "/cli");
}

TEST_F(WebhookTest, RunqWorkerRefusesBadWebhookFlags) {
  const char* bin = std::getenv("RUNQ_TEST_BINARY_DIR");
  if (bin == nullptr) GTEST_SKIP() << "RUNQ_TEST_BINARY_DIR not set (run through ctest)";
  const std::string runq = std::string(bin) + "/runq";
  const std::string store = "sqlite:" + dir_.file("runq.db");

  CommandResult no_hosts =
      run_command(runq, {"--store", store, "worker", "--webhook-secret-file", dir_.file("secret")});
  CommandResult commas = run_command(runq, {"--store", store, "worker", "--webhooks", ",,"});
  CommandResult no_secret =
      run_command(runq, {"--store", store, "worker", "--webhooks", "127.0.0.1",
                         "--webhook-secret-file", dir_.file("missing")});

  EXPECT_EQ(no_hosts.exit_code, 2);
  EXPECT_NE(no_hosts.err.find("--webhook-secret-file needs --webhooks HOSTS"), std::string::npos)
      << no_hosts.err;
  EXPECT_EQ(commas.exit_code, 2);
  EXPECT_NE(commas.err.find("--webhooks: give host names"), std::string::npos) << commas.err;
  EXPECT_EQ(no_secret.exit_code, 2);
  EXPECT_NE(no_secret.err.find("cannot read a secret from"), std::string::npos) << no_secret.err;
}

}  // namespace
}  // namespace runq::testing
