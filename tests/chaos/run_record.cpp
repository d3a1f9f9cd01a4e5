#include "chaos/run_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string_view>

namespace runq::chaos {

void RunRecord::refresh() {
  int fd = ::open(path_.c_str(), O_RDONLY);
  if (fd < 0) return;  // nothing ran yet
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset_));
    if (n <= 0) break;
    offset_ += static_cast<std::uint64_t>(n);
    partial_.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::size_t begin = 0;
  for (std::size_t nl; (nl = partial_.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    std::string_view line(partial_.data() + begin, nl - begin);
    constexpr std::string_view kPrefix = "start ";
    if (line.size() <= kPrefix.size() || line.substr(0, kPrefix.size()) != kPrefix) {
      ++malformed_;
      continue;
    }
    ++count_[std::string(line.substr(kPrefix.size()))];
    ++runs_;
  }
  partial_.erase(0, begin);
}

int RunRecord::runs_of(const std::string& id) const {
  auto it = count_.find(id);
  return it == count_.end() ? 0 : it->second;
}

}  // namespace runq::chaos
