#include "worker/internal/wire.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

namespace runq::internal {
bool write_frame(int fd, const std::string& frame) {
  const char* p = frame.data();
  std::size_t n = frame.size();
  while (n > 0) {
    ssize_t put = ::send(fd, p, n, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return true;
}

bool FrameReader::fill() {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 20)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[64 * 1024];
  while (true) {
    ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }
}

bool FrameReader::buffered() const {
  std::uint32_t len = 0;
  if (buf_.size() - pos_ < sizeof len) return false;
  std::memcpy(&len, buf_.data() + pos_, sizeof len);
  return buf_.size() - pos_ - sizeof len >= len;
}

std::optional<Frame> FrameReader::next() {
  std::uint32_t len = 0;
  while (buf_.size() - pos_ < sizeof len) {
    if (!fill()) return std::nullopt;
  }
  std::memcpy(&len, buf_.data() + pos_, sizeof len);
  if (len < 1 || len > kMaxFrameBytes) return std::nullopt;
  while (buf_.size() - pos_ - sizeof len < len) {
    if (!fill()) return std::nullopt;
  }
  const char* p = buf_.data() + pos_ + sizeof len;
  Frame f{static_cast<FrameType>(p[0]), std::string(p + 1, len - 1)};
  pos_ += sizeof len + len;
  return f;
}

void put_delivery(WireWriter& w, const Delivery& d) {
  w.str(d.id).str(d.queue).str(d.body).u64(d.token).i64(d.deliveries).i64(d.lease_expires);
}

Delivery get_delivery(WireReader& r) {
  Delivery d;
  d.id = r.str();
  d.queue = r.str();
  d.body = r.str();
  d.token = r.u64();
  d.deliveries = static_cast<int>(r.i64());
  d.lease_expires = r.i64();
  return d;
}

void put_outcome(WireWriter& w, const RunOutcome& o) {
  const Settlement& s = o.settlement;
  w.u64(o.counted_failure ? 1 : 0)
      .u64(static_cast<std::uint64_t>(s.outcome))
      .str(s.id)
      .u64(s.token)
      .u64(static_cast<std::uint64_t>(s.state))
      .str(s.result)
      .i64(s.result_ttl)
      .i64(s.retry_at)
      .str(s.body)
      .str(s.reason);
}

RunOutcome get_outcome(WireReader& r) {
  RunOutcome o;
  o.counted_failure = r.u64() != 0;
  Settlement& s = o.settlement;
  s.outcome = static_cast<Outcome>(r.u64());
  s.id = r.str();
  s.token = r.u64();
  s.state = static_cast<TaskState>(r.u64());
  s.result = r.str();
  s.result_ttl = r.i64();
  s.retry_at = r.i64();
  s.body = r.str();
  s.reason = r.str();
  return o;
}

}  // namespace runq::internal
