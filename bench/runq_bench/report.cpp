#include "report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench_app.hpp"

namespace runq::bench {

Progress::Progress(std::string label, std::uint64_t total, std::function<std::uint64_t()> done)
    : label_(std::move(label)), total_(total), done_(std::move(done)), start_us_(mono_us()) {
  if (!isatty(STDERR_FILENO)) return;
  thread_ = std::jthread([this](std::stop_token st) {
    while (!st.stop_requested()) {
      draw(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::draw(bool) const {
  constexpr int kWidth = 30;
  std::uint64_t done = std::min(done_(), total_);
  double frac = total_ ? double(done) / double(total_) : 0;
  int filled = int(frac * kWidth);
  double secs = (mono_us() - start_us_) / 1e6;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K%-16s [%s] %s/%s  %s/s  %.1fs", label_.c_str(), bar.c_str(),
               group_digits(done).c_str(), group_digits(total_).c_str(),
               group_digits(secs > 0 ? std::uint64_t(done / secs) : 0).c_str(), secs);
  std::fflush(stderr);
}

std::string Table::render() const {
  std::vector<std::size_t> width(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (std::size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      std::string pad(width[i] - std::min(width[i], cell.size()), ' ');
      out += i == 0 ? cell + pad : "  " + pad + cell;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::size_t total = 0;
  for (std::size_t w : width) total += w + 2;
  out += std::string(total - 2, '-') + "\n";
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string group_digits(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string mem_kb(std::int64_t kb) {
  if (kb <= 0) return "-";
  if (kb < 10 * 1024) return fixed(kb / 1024.0, 1) + " MB";
  return fixed(kb / 1024.0, 0) + " MB";
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  std::size_t rank = std::size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace runq::bench
