// Cost of a unique enqueue against a plain one, per store: one task per call and batches of
// 100, with keys that are free (every task added) and keys that are held (every task refused,
// the holder's id returned). Prints one line per case: tasks/s and microseconds per task.
//
//   runq-unique-bench [--tasks N] URL...        e.g. sqlite:/tmp/u.db redis://127.0.0.1:PORT/0
//
// Each URL should name an empty store (a new SQLite file, a fresh Redis database or
// PostgreSQL schema); the bench uses its own queue per case. A main() that only parses its
// arguments and runs the cases.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runq/store.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr runq::Millis kNow = 1'700'000'000'000;

struct Case {
  const char* name;
  std::size_t batch;
  bool unique;
  bool held;  // every key already held: nothing is added
};

// Builds `n` tasks of queue q, numbered from `first`; unique ones get key "<q>-key-<i>" (or
// the one held key).
std::vector<runq::NewTask> tasks_for(const std::string& q, std::size_t first, std::size_t n,
                                     const Case& c) {
  std::vector<runq::NewTask> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    runq::NewTask& t = out[i];
    t.id = q + "-" + std::to_string(first + i);
    t.queue = q;
    t.task = "bench.unique";
    t.body = R"({"id":")" + t.id + R"(","task":"bench.unique","args":[42]})";
    if (c.unique) t.unique.key = c.held ? q + "-held" : q + "-key-" + std::to_string(first + i);
  }
  return out;
}

// Tasks per second of enqueueing `total` tasks in calls of c.batch; -1 on an error.
double run_case(runq::Store& store, const Case& c, std::size_t total) {
  const std::string q = std::string("ub-") + c.name;
  if (c.held) {  // the holder of the one key, added before timing
    runq::NewTask holder = tasks_for(q, total + 1, 1, c).front();
    if (!store.enqueue_unique({&holder, 1}, kNow).ok()) return -1;
  }
  std::vector<std::vector<runq::NewTask>> calls;
  for (std::size_t i = 0; i < total; i += c.batch) calls.push_back(tasks_for(q, i, c.batch, c));
  const auto start = SteadyClock::now();
  for (const auto& call : calls) {
    runq::Status st =
        c.unique ? store.enqueue_unique(call, kNow).status() : store.enqueue(call, kNow);
    if (!st.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name, st.to_string().c_str());
      return -1;
    }
  }
  const double s = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return static_cast<double>(total) / s;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t total = 2000;
  std::vector<std::string> urls;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tasks" && i + 1 < argc) {
      total = std::strtoull(argv[++i], nullptr, 10);
    } else {
      urls.push_back(a);
    }
  }
  if (urls.empty() || total < 100) {
    std::fprintf(stderr, "usage: runq-unique-bench [--tasks N>=100] URL...\n");
    return 2;
  }
  const Case cases[] = {
      {"plain-1", 1, false, false},     {"unique-1", 1, true, false},
      {"unique-held-1", 1, true, true}, {"plain-100", 100, false, false},
      {"unique-100", 100, true, false}, {"unique-held-100", 100, true, true},
  };
  for (const std::string& url : urls) {
    runq::Result<std::unique_ptr<runq::Store>> store = runq::open_store(url);
    if (!store.ok()) {
      std::fprintf(stderr, "%s: %s\n", url.c_str(), store.status().to_string().c_str());
      return 1;
    }
    const std::string scheme = url.substr(0, url.find(':'));
    for (const Case& c : cases) {
      double rate = run_case(**store, c, total);
      if (rate < 0) return 1;
      std::printf("%-10s %-16s %8.0f tasks/s %8.1f us/task\n", scheme.c_str(), c.name, rate,
                  1e6 / rate);
    }
  }
  return 0;
}
