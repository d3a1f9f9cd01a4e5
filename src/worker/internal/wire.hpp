// Wire: the frames the process pool exchanges between the worker and its children over an
// AF_UNIX stream socket, and the binary encoding of their fields.
//
// A frame is a 4-byte length (native byte order: both ends are the same binary on the same
// machine), a 1-byte type and `length - 1` bytes of payload. Fields are fixed-size integers and
// doubles (native layout) and strings as a 4-byte length plus bytes. Nothing in a frame is
// interpreted beyond these fields: a task body is the same opaque text the store holds.
//
// Thread safety: WireWriter/WireReader are plain values. write_frame and a FrameReader may be used
// concurrently on one socket only if the caller serialises writes (one writer at a time) and
// reads (one reader).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "app/task_runner.hpp"
#include "runq/store.hpp"

namespace runq::internal {

enum class FrameType : std::uint8_t {
  kRun = 1,       // worker → child: run a delivery (seq, soft limit, the delivery)
  kCancel = 2,    // worker → child: raise the cancellation flag of `seq`
  kProgress = 3,  // child → worker: Context::progress() of `seq`
  kDone = 4,      // child → worker: the outcome of `seq`
  kRetiring = 5,  // child → worker: exits on purpose after its last outcome (recycling)
};

// Largest frame accepted: a 1 MiB task body or result plus headroom. A longer length prefix
// means a corrupt stream; the reader treats it as the end of the connection.
inline constexpr std::uint32_t kMaxFrameBytes = 64u << 20;

class WireWriter {
 public:
  explicit WireWriter(FrameType type) { buf_.assign(5, '\0'), buf_[4] = char(type); }
  WireWriter& u64(std::uint64_t v) { return raw(&v, sizeof v); }
  WireWriter& i64(std::int64_t v) { return raw(&v, sizeof v); }
  WireWriter& f64(double v) { return raw(&v, sizeof v); }
  WireWriter& str(std::string_view s) {
    auto n = static_cast<std::uint32_t>(s.size());
    raw(&n, sizeof n);
    buf_.append(s);
    return *this;
  }
  // The finished frame, length prefix included.
  const std::string& frame() {
    auto n = static_cast<std::uint32_t>(buf_.size() - 4);
    std::memcpy(buf_.data(), &n, sizeof n);
    return buf_;
  }

 private:
  WireWriter& raw(const void* p, std::size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string buf_;
};

// Reads fields in the order they were written. A read past the end sets failed() and returns
// zero / empty values.
class WireReader {
 public:
  explicit WireReader(std::string_view payload) : in_(payload) {}
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  double f64() { return fixed<double>(); }
  std::string str() {
    auto n = fixed<std::uint32_t>();
    if (failed_ || n > in_.size()) return failed_ = true, std::string();
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  bool failed() const { return failed_; }

 private:
  template <typename T>
  T fixed() {
    T v{};
    if (in_.size() < sizeof v) return failed_ = true, v;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  std::string_view in_;
  bool failed_ = false;
};

struct Frame {
  FrameType type;
  std::string payload;
};

// Writes a whole frame, retrying on EINTR and short writes; never raises SIGPIPE. Returns
// false when the peer is gone.
bool write_frame(int fd, const std::string& frame);

// Reads frames from one socket through a buffer: one recv() usually brings several frames
// (or a whole one), instead of three reads per frame. One reader per socket.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  // The next frame; nullopt on end of stream, error or a corrupt length.
  std::optional<Frame> next();
  // Whether a whole frame is already buffered (next() will not block).
  bool buffered() const;

 private:
  bool fill();  // reads what is available (blocking for at least one byte)
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
};

// The fields of a delivery and of an outcome, in frame payload order.
void put_delivery(WireWriter& w, const Delivery& d);
Delivery get_delivery(WireReader& r);
void put_outcome(WireWriter& w, const RunOutcome& o);
RunOutcome get_outcome(WireReader& r);

}  // namespace runq::internal
