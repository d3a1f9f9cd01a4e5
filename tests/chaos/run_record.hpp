// RunRecord: the independent record of a run. Every task appends "start <task id>\n" to a
// file with one O_APPEND write (runq_test_app's record_sleep), so the file says which tasks
// ran and how often, whatever the store says. RunRecord reads it incrementally.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace runq::chaos {

class RunRecord {
 public:
  explicit RunRecord(std::string path) : path_(std::move(path)) {}

  // Reads the lines appended since the last call (a partial last line waits for the next).
  void refresh();

  std::int64_t runs() const { return runs_; }  // lines read
  std::int64_t distinct() const { return std::int64_t(count_.size()); }
  std::int64_t duplicates() const { return runs_ - distinct(); }
  // How often task `id` ran (0 if never).
  int runs_of(const std::string& id) const;
  const std::unordered_map<std::string, int>& all() const { return count_; }
  // Lines that were not "start <id>" (a torn write would show up here).
  std::int64_t malformed() const { return malformed_; }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
  std::int64_t runs_ = 0;
  std::int64_t malformed_ = 0;
  std::unordered_map<std::string, int> count_;
};

}  // namespace runq::chaos
