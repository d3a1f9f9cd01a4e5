// HttpFixture: a real HttpServer on 127.0.0.1 (a free port) over a real SQLite file, and an
// HTTP client for it. Tests talk to it over loopback exactly as a client in another language
// would.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runq/app.hpp"
#include "runq/server.hpp"
#include "support/temp_dir.hpp"

namespace runq::testing {

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
