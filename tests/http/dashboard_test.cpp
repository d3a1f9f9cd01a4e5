// The dashboard's static files as `runq serve` sends them: content types, the
// Content-Security-Policy, revalidation with ETag (304), the first-load size, and the
// /api/v1/auth route the page reads its scope from. The pages themselves run in a real
// browser in tests/browser/.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "http/http_fixture.hpp"

namespace runq::testing {
namespace {

using Dashboard = HttpFixture;

TEST_F(Dashboard, ServesThePageWithAStrictContentSecurityPolicy) {
  serve();
  auto r = get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  // No inline script: every <script> has a src.
  EXPECT_FALSE(std::regex_search(r->body, std::regex("<script(?![^>]*\\bsrc=)[^>]*>")));
}

TEST_F(Dashboard, AssetsHaveTheirContentTypeAndRevalidateWithETag) {
  serve();
  auto js = get("/assets/main.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto css = get("/assets/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");

  std::string etag = js->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = get("/assets/main.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = get("/assets/main.js", {{"If-None-Match", "\"0000000000000000\""}});
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(get("/assets/style.css")->get_header_value("ETag") == etag, false);

  auto missing = get("/assets/nope.js");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  EXPECT_EQ(get("/assets/..%2Fserver.cpp")->status, 404);
}

// Every file the page loads (the HTML, what it links and every module main.js imports,
// transitively) adds up to less than 300 KB.
TEST_F(Dashboard, FirstLoadIsUnder300KB) {
  serve();
  std::set<std::string> seen;
  std::vector<std::string> todo = {"/"};
  std::size_t bytes = 0;
  static const std::regex ref(R"re((?:src|href)="(/assets/[^"]+)"|from '\./([^']+)')re");
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    if (!seen.insert(path).second) continue;
    auto r = get(path);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << path;
    bytes += r->body.size();
    for (auto it = std::sregex_iterator(r->body.begin(), r->body.end(), ref);
         it != std::sregex_iterator(); ++it) {
      todo.push_back((*it)[1].matched ? (*it)[1].str() : "/assets/" + (*it)[2].str());
    }
  }
  EXPECT_GE(seen.size(), 10u);  // the page, its style, and the modules
  EXPECT_LT(bytes, 300u * 1024);
  RecordProperty("first_load_bytes", static_cast<int>(bytes));
}

TEST_F(Dashboard, AuthRouteReportsTheScopeOfTheToken) {
  serve(
      ServeOptions{.admin_token = "admin-token-0123456789", .read_token = "read-token-0123456789"});
  EXPECT_EQ(get("/api/v1/auth")->status, 401);
  // The page itself needs no token (it holds no data); the API does.
  EXPECT_EQ(get("/")->status, 200);
  auto admin = get("/api/v1/auth", {{"Authorization", "Bearer admin-token-0123456789"}});
  EXPECT_EQ(json(admin)["scope"], "admin");
  EXPECT_EQ(json(admin)["tokens_required"], true);
  auto read = get("/api/v1/auth", {{"Authorization", "Bearer read-token-0123456789"}});
  EXPECT_EQ(json(read)["scope"], "read");
}

TEST_F(Dashboard, WithoutTokensEveryCallerIsAdmin) {
  serve();
  auto r = get("/api/v1/auth");
  EXPECT_EQ(json(r)["scope"], "admin");
  EXPECT_EQ(json(r)["tokens_required"], false);
}

TEST_F(Dashboard, TaskReadShowsItsArgumentsWhileQueued) {
  serve();
  std::string id =
      json(post("/api/v1/tasks", R"({"name": "x", "queue": "q", "args": [1, "<b>"]})"))["id"];
  auto t = json(get("/api/v1/tasks/" + id));
  EXPECT_EQ(t["args"], nlohmann::json::parse(R"([1, "<b>"])"));
}

// The dashboard lists queues from GET /api/v1/queues: a paused queue with no task must be
// there too, or it could not be resumed from the page.
TEST_F(Dashboard, APausedQueueWithoutTasksIsListed) {
  serve();
  ASSERT_EQ(post("/api/v1/queues/idle/pause", "{}")->status, 200);
  nlohmann::json queues = json(get("/api/v1/queues"))["queues"];
  auto idle = std::find_if(queues.begin(), queues.end(),
                           [](const nlohmann::json& q) { return q["name"] == "idle"; });
  ASSERT_NE(idle, queues.end()) << queues.dump();
  EXPECT_EQ((*idle)["paused"], true);
  EXPECT_EQ((*idle)["pending"], 0);

  ASSERT_EQ(post("/api/v1/queues/idle/resume", "{}")->status, 200);
  queues = json(get("/api/v1/queues"))["queues"];
  EXPECT_TRUE(std::none_of(queues.begin(), queues.end(), [](const nlohmann::json& q) {
    return q["name"] == "idle";
  })) << queues.dump();
}

}  // namespace
}  // namespace runq::testing
