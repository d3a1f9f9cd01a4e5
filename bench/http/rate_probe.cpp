// runq_http_rate_probe: GET latency at a fixed request rate (open loop), which wrk cannot do.
// Request i is due at start + i / rate; its latency is counted from that due time, not from
// when it was sent, so a slow answer that delays the next requests is charged to them too (no
// coordinated omission). Requests are spread over C keep-alive connections, one thread each.
//
//   runq_http_rate_probe HOST PORT PATH RATE SECONDS [CONNECTIONS=4]
//   -> "1000 req/s for 10 s over 4 connections: sent 10000, errors 0, p50 0.31 ms, ..."
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH RATE SECONDS [CONNECTIONS]\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1], path = argv[3];
  const int port = std::atoi(argv[2]);
  const double rate = std::atof(argv[4]), seconds = std::atof(argv[5]);
  const int conns = argc > 6 ? std::max(1, std::atoi(argv[6])) : 4;
  if (port <= 0 || rate <= 0 || seconds <= 0 || seconds > 600) {
    std::fprintf(stderr, "bad arguments (rate > 0, 0 < seconds <= 600)\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto total = static_cast<long>(rate * seconds);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);
  std::vector<std::vector<double>> lat(conns);
  std::vector<long> errors(conns, 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_read_timeout(5, 0);
      for (long i = c; i < total; i += conns) {
        const auto due =
            start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        auto res = client.Get(path.c_str());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
        if (!res || res->status != 200) ++errors[c];
        lat[c].push_back(ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  long errs = 0;
  for (int c = 0; c < conns; ++c) {
    all.insert(all.end(), lat[c].begin(), lat[c].end());
    errs += errors[c];
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "%.0f req/s for %.0f s over %d connections: sent %zu, errors %ld, p50 %.2f ms, p90 %.2f "
      "ms, p99 %.2f ms, max %.2f ms\n",
      rate, seconds, conns, all.size(), errs, pct(0.50), pct(0.90), pct(0.99),
      all.empty() ? 0.0 : all.back());
  return errs == 0 ? 0 : 1;
}
