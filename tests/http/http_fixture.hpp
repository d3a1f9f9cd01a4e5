// HttpFixture: a real HttpServer on 127.0.0.1 (a free port) over a real SQLite file, and an
// HTTP client for it. Tests talk to it over loopback exactly as a client in another language
// would.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "runq/app.hpp"
#include "runq/server.hpp"
#include "support/temp_dir.hpp"

namespace runq::testing {

// Reads GET /api/v1/events of the server on `port` on a thread of its own and keeps all it
// received. stop(poke) ends it: the reader leaves at the next event, which `poke` causes.
class EventReader {
 public:
  explicit EventReader(int port)
      : thread_([this, port] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(std::chrono::seconds(20));
          c.Get("/api/v1/events", [this](const char* data, std::size_t n) {
            std::lock_guard lock(mu_);
            received_.append(data, n);
            return !done_.load();
          });
        }) {}
  ~EventReader() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool seen(const std::string& s) {
    std::lock_guard lock(mu_);
    return received_.find(s) != std::string::npos;
  }
  std::string received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  void stop(const std::function<void()>& poke) {
    done_ = true;
    poke();
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::string received_;
  std::thread thread_;
};

class HttpFixture : public ::testing::Test {
 protected:
  // Starts the server over `app_` with `options` (port forced to 0: a free one).
  void serve(ServeOptions options = {}) {
    options.port = 0;
    auto s = HttpServer::start(app_, options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(30));
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->stop();
  }

  // POST `body` (JSON text) to `path`; the response, or a failed test when there is none.
  httplib::Result post(const std::string& path, const std::string& body,
                       const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, body, "application/json");
  }
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    return client_->Get(path.c_str(), headers);
  }
  static nlohmann::json json(const httplib::Result& r) {
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  }
  // The error code of an error response, "" for anything else.
  static std::string error_code(const httplib::Result& r) {
    nlohmann::json j = json(r);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  TempDir dir_;
  App app_{AppOptions{.store_url = "sqlite:" + dir_.file("runq.db")}};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace runq::testing
