// The fixtures of the registered backends, made from what each declares
// (StoreBackendInfo::test_fixture), and the test servers they may name, by kind.
#include "support/store_fixtures.hpp"

#include <algorithm>
#include <atomic>

#include "store/backend.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace runq::testing {
namespace {

using Stores = std::vector<std::shared_ptr<Store>>;

// ---- test servers, by kind ----------------------------------------------------------------

// One private redis-server for the whole binary; each fresh store gets its own key prefix
// ({n} in the redis fixture), so tests never see each other's keys.
Result<int> redis_server_port() {
  static RedisServer server;  // stopped when the binary exits
  static const bool started = server.start();
  if (!started) return unavailable_error("cannot start redis-server: " + server.error());
  return server.port();
}

// One private PostgreSQL for the whole binary; each fresh store gets its own schema ({n} in
// the postgres fixture).
Result<int> postgres_port() {
  std::string why;
  const int port = shared_postgres_port(&why);
  if (port == 0) return unavailable_error(why);
  return port;
}

struct ServerLauncher {
  std::string_view kind;  // as named by StoreTestFixture::server
  // Starts the binary's one server of this kind on the first call. Returns its port, or
  // Unavailable saying why it cannot run here.
  Result<int> (*port)();
};

// One line per server kind a backend's fixture may name.
constexpr ServerLauncher kServers[] = {
    {"redis-server", redis_server_port},
    {"postgres", postgres_port},
};

const ServerLauncher* find_server(std::string_view kind) {
  auto it = std::find_if(std::begin(kServers), std::end(kServers),
                         [&](const ServerLauncher& s) { return s.kind == kind; });
  return it == std::end(kServers) ? nullptr : it;
}

std::string server_kinds() {
  std::string out;
  for (const ServerLauncher& s : kServers) out += (out.empty() ? "" : ", ") + std::string(s.kind);
  return out;
}

// ---- stores ---------------------------------------------------------------------------------

// A store object that keeps alive what its backend needs (a temp dir...) until it is gone.
class Holding final : public StoreWrapper {
 public:
  Holding(std::shared_ptr<void> resource, std::shared_ptr<Store> store)
      : StoreWrapper(store.get()), resource_(std::move(resource)), store_(std::move(store)) {}

 private:
  std::shared_ptr<void> resource_;  // declared first: outlives store_
  std::shared_ptr<Store> store_;
};

// `n` objects opened from `url`, each holding `resource`.
Result<Stores> open_url(const std::string& url, int n, std::shared_ptr<void> resource) {
  Stores out;
  for (int i = 0; i < n; ++i) {
    RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, open_store(url));
    out.push_back(std::make_shared<Holding>(resource, std::move(s)));
  }
  return out;
}

// Replaces every `placeholder` in `url` by `value`.
void fill(std::string& url, std::string_view placeholder, const std::string& value) {
  for (std::size_t at = url.find(placeholder); at != std::string::npos;
       at = url.find(placeholder, at + value.size())) {
    url.replace(at, placeholder.size(), value);
  }
}

// What is wrong with a backend's declared fixture, or "" when tests can use it.
std::string fixture_error(const StoreTestFixture& f) {
  if (f.url.empty()) return "the backend declares no StoreBackendInfo::test_fixture";
  if (!f.server.empty() && find_server(f.server) == nullptr) {
    return "unknown test server kind '" + std::string(f.server) +
           "' (tests/support/store_fixtures.cpp starts: " + server_kinds() + ")";
  }
  if (f.server.empty() && f.url.find("{port}") != std::string_view::npos) {
    return "its URL uses {port} but it names no test server";
  }
  return "";
}

// n views of a new, empty store made from a valid fixture (fixture_error() is "").
Result<Stores> open_fresh(const StoreTestFixture& f, int n) {
  static std::atomic<int> next{0};
  std::string url(f.url);
  std::shared_ptr<TempDir> dir;
  if (url.find("{dir}") != std::string::npos) {
    dir = std::make_shared<TempDir>();
    fill(url, "{dir}", dir->path());
  }
  if (!f.server.empty()) {
    RUNQ_ASSIGN_OR_RETURN(int port, find_server(f.server)->port());
    fill(url, "{port}", std::to_string(port));
  }
  fill(url, "{n}", std::to_string(++next));
  if (url.find('{') != std::string::npos) {
    return failed_precondition_error("making a test store from '" + url +
                                     "': unknown placeholder (known: {dir}, {port}, {n})");
  }
  if (f.shares_by_url) return open_url(url, n, dir);
  // In-process: separate objects would be separate stores, so one object stands for all n.
  RUNQ_ASSIGN_OR_RETURN(Stores one, open_url(url, 1, dir));
  return Stores(static_cast<std::size_t>(n), one.front());
}

StoreFixture make_fixture(const StoreBackendInfo& backend) {
  StoreFixture out;
  out.scheme = backend.scheme;
  const StoreTestFixture f = backend.test_fixture;
  if (std::string error = fixture_error(f); !error.empty()) {
    // No `unavailable`: a broken fixture fails the suites, it never skips them.
    std::string message =
        "making a test store for backend '" + std::string(backend.scheme) + "': " + error;
    out.open = [message](int) -> Result<Stores> { return failed_precondition_error(message); };
    return out;
  }
  if (!f.server.empty()) {
    const ServerLauncher* server = find_server(f.server);
    out.unavailable = [server] {
      Result<int> port = server->port();
      return port.ok() ? std::string() : port.status().message();
    };
  }
  out.open = [f](int n) { return open_fresh(f, n); };
  return out;
}

const std::vector<StoreFixture>& fixtures() {
  static const std::vector<StoreFixture> all = [] {
    std::vector<StoreFixture> out;
    for (const StoreBackendInfo& backend : store_backends()) out.push_back(make_fixture(backend));
    return out;
  }();
  return all;
}

}  // namespace

const StoreFixture* store_fixture(std::string_view scheme) {
  const std::vector<StoreFixture>& all = fixtures();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const StoreFixture& f) { return f.scheme == scheme; });
  return it == all.end() ? nullptr : &*it;
}

Result<std::unique_ptr<Store>> fresh_store(std::string_view scheme) {
  const StoreFixture* fixture = store_fixture(scheme);
  if (fixture == nullptr) {
    return failed_precondition_error("making a test store: no backend registered for scheme '" +
                                     std::string(scheme) + "'");
  }
  RUNQ_ASSIGN_OR_RETURN(Stores stores, fixture->open(1));
  return std::unique_ptr<Store>(std::make_unique<Holding>(nullptr, std::move(stores.front())));
}

}  // namespace runq::testing
