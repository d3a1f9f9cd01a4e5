// Terminal output of runq-bench: a live progress bar, aligned tables and number formatting.
//
// The progress bar is drawn on stderr only when stderr is a terminal; otherwise runq-bench
// stays quiet until its result table. Thread safety: Progress runs its own drawing thread;
// the counter callback it is given must be safe to call from that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace runq::bench {

class Progress {
 public:
  // Starts drawing `label` with done()/total every 100 ms (if stderr is a tty).
  Progress(std::string label, std::uint64_t total, std::function<std::uint64_t()> done);
  ~Progress();  // stop()
  void stop();  // erases the bar

 private:
  void draw(bool final) const;

  std::string label_;
  std::uint64_t total_;
  std::function<std::uint64_t()> done_;
  std::int64_t start_us_;
  std::jthread thread_;
};

// A table printed with aligned columns: the first column left-aligned, the others right.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// 1234567 -> "1,234,567"
std::string group_digits(std::uint64_t n);
// Fixed-point with `digits` decimals.
std::string fixed(double v, int digits);
// "12.3 MB" from kilobytes.
std::string mem_kb(std::int64_t kb);

// The q-quantile (0..1) of `sorted` (nearest rank); 0 for an empty vector.
double quantile(const std::vector<double>& sorted, double q);

}  // namespace runq::bench
