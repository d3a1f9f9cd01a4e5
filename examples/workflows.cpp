// Fan out and join (docs/workflows.md): a chord of "page fetches" joined by a digest, a chain
// that passes results along, and a task that waits on two others. Runs a worker in this
// process on the embedded store, prints the results, and exits.
//
//   build/examples/workflows [--store URL]    (default sqlite:workflows.db)
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <runq/runq.hpp>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::string url = "sqlite:workflows.db";
  if (argc == 3 && std::string(argv[1]) == "--store") url = argv[2];
  runq::App app(runq::AppOptions{.store_url = url});

  // A stand-in for downloading a page: its "size" in bytes.
  auto fetch =
      app.task("fetch", [](std::string url) { return static_cast<int>(url.size() * 100); });
  auto digest = app.task("digest", [](std::vector<int> sizes) {
    return "fetched " + std::to_string(sizes.size()) + " pages, " +
           std::to_string(std::accumulate(sizes.begin(), sizes.end(), 0)) + " bytes";
  });
  auto add = app.task("add", [](int a, int b) { return a + b; });
  auto report = app.task("report", [](std::string what) { return "report on " + what; });

  runq::WorkerOptions wo;
  wo.concurrency = 4;
  runq::Worker worker(app, wo);
  if (!worker.start().ok()) return 1;

  // Fan out over 20 pages, then join once with every result.
  std::vector<runq::Signature<int>> pages;
  for (int i = 0; i < 20; ++i)
    pages.push_back(fetch.s("https://example.com/page/" + std::to_string(i)));
  std::string summary = runq::chord(runq::group(pages), digest.s()).delay().get(60s);
  std::printf("chord: %s\n", summary.c_str());

  // ((2 + 3) + 10) + 1: each step receives the previous result first.
  int sum = runq::chain(add.s(2, 3), add.s(10), add.s(1)).delay().get(60s);
  std::printf("chain: %d\n", sum);

  // A task that waits (state WAITING) until two others succeeded.
  auto a = fetch.delay("https://example.com/a");
  auto b = fetch.delay("https://example.com/b");
  auto after = report.apply(runq::EnqueueOptions{}.depends_on({a.id(), b.id()}), "a and b");
  std::printf("depends_on: %s\n", after.get(60s).c_str());

  worker.request_stop();
  worker.wait();
  return 0;
}
