// The main example (`make run`): the background work of a web shop, on the embedded store.
//
// With no arguments it runs a worker (with the periodic scheduler) on sqlite:runq.db and, from
// a second thread, plays the web app: enqueues a slow report whose result a request reads
// later, a burst of small thumbnail tasks, an e-mail that fails twice and is retried, and a
// task no worker knows (it ends dead-lettered). It prints progress and throughput, then keeps
// running so you can enqueue more from another terminal. With arguments it is the usual
// runq command line of this binary: `webapp_tasks worker`, `webapp_tasks status`, ...
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "runq/runq.hpp"

using namespace std::chrono_literals;

namespace {

struct Report {
  std::string day;
  int orders = 0;
  double revenue = 0;
};
void to_json(nlohmann::json& j, const Report& r) {
  j = {{"day", r.day}, {"orders", r.orders}, {"revenue", r.revenue}};
}
void from_json(const nlohmann::json& j, Report& r) {
  r.day = j.at("day").get<std::string>();
  r.orders = j.at("orders").get<int>();
  r.revenue = j.at("revenue").get<double>();
}

// A slow, expensive query the web request should not wait for.
Report build_report(runq::Context& ctx, std::string day) {
  Report r{day, 0, 0};
  for (int step = 1; step <= 10; ++step) {
    if (ctx.cancelled()) throw std::runtime_error("cancelled while building the report");
    std::this_thread::sleep_for(100ms);  // stands in for a slow database scan
    r.orders += 17 * step;
    r.revenue += 123.45 * step;
    ctx.progress(step / 10.0);
  }
  return r;
}

void say(const std::string& line) {
  std::printf("[webapp] %s\n", line.c_str());
  std::fflush(stdout);
}

// Plays the web application: enqueues work and reads results like request handlers would.
void play_web_app(runq::App& app, auto& report, auto& thumbnail, auto& send_email) {
  say("enqueueing a daily report (slow; a later request reads its result)");
  auto rep = report.delay("2026-11-28");

  say("enqueueing a burst of 5000 thumbnail tasks in one batch");
  std::vector<std::tuple<int>> images;
  for (int i = 0; i < 5000; ++i) images.emplace_back(i);
  auto t0 = std::chrono::steady_clock::now();
  auto thumbs = thumbnail.delay_many(images);
  auto t1 = std::chrono::steady_clock::now();
  say("  enqueued in " +
      std::to_string(std::chrono::duration<double, std::milli>(t1 - t0).count()) + " ms");

  say("enqueueing an e-mail whose SMTP server fails twice (retried with backoff)");
  auto mail = send_email.delay("ada@example.com");

  say("enqueueing 'resize_video', a task no worker has registered (it will be dead-lettered)");
  auto unknown = app.send("resize_video", nlohmann::json::array({"movie.mp4"}));

  thumbs.back().get(60s);
  auto t2 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t2 - t1).count();
  say("5000 thumbnails done in " + std::to_string(secs) + " s (" +
      std::to_string(int(5000 / secs)) + " tasks/s)");

  for (int i = 0; i < 600 && !rep.ready(); ++i) {  // what a status page would show
    say("report progress: " + std::to_string(int(rep.status().progress * 100)) + "%");
    std::this_thread::sleep_for(250ms);
  }
  Report r = rep.get(60s);
  say("report for " + r.day + ": " + std::to_string(r.orders) + " orders, revenue " +
      std::to_string(r.revenue));
  say("e-mail: " + mail.get(60s) + " (after " + std::to_string(mail.status().errors.size()) +
      " failed attempts)");
  try {
    unknown.get(10s);
  } catch (const runq::TaskFailed& e) {
    say(std::string("resize_video: ") + std::string(runq::task_state_name(e.state())) + " — " +
        e.what());
  }
  say("");
  say("The worker keeps running (Ctrl-C to stop). From another terminal try:");
  say("  build/runq --store " + app.store_url() + " enqueue thumbnail --args '[42]'");
  say("  build/runq --store " + app.store_url() + " result <ID> --wait 5s");
  say("  build/runq --store " + app.store_url() + " status");
  say("  build/runq --store " + app.store_url() + " schedule list");
  say("  build/runq --store " + app.store_url() + " dead list");
}

}  // namespace

int main(int argc, char** argv) {
  runq::App app;
  auto report = app.task("build_report", build_report, runq::TaskOptions{}.time_limit(2min));
  auto thumbnail = app.task("thumbnail", [](int image_id) { return image_id % 7; });
  auto send_email = app.task(
      "send_email",
      [](runq::Context& ctx, std::string to) {
        if (ctx.attempt() < 3)
          throw std::runtime_error("SMTP server busy (421), attempt " +
                                   std::to_string(ctx.attempt()));
        return "sent to " + to;
      },
      runq::TaskOptions{}.max_retries(4).backoff(runq::Backoff::fixed(500ms)));
  auto refresh = app.task("refresh_top100", [](runq::Context& ctx) {
    std::printf("[periodic] refresh_top100 fired (task %s)\n", ctx.id().c_str());
    std::fflush(stdout);
    return 100;
  });
  app.periodic("refresh-top100", runq::every(10s), refresh);

  if (argc > 1) return app.main(argc, argv);

  std::thread web([&] {
    try {
      play_web_app(app, report, thumbnail, send_email);
    } catch (const std::exception& e) {
      say(std::string("error: ") + e.what());
    }
  });
  web.detach();
  std::vector<std::string> args = {argv[0], "worker", "--beat", "--concurrency", "8"};
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  int rc = app.main(static_cast<int>(cargs.size()), cargs.data());
  // The web thread may still be waiting on a result; the store is durable, so just leave.
  std::fflush(stdout);
  std::_Exit(rc);
}
