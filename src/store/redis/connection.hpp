// Synchronous Redis connections for the redis:// store: one hiredis context per connection, a
// pool shared by threads, pipelined round trips, and the one place where hiredis errors and
// Redis error replies become a runq::Status.
//
// Thread safety: a RedisConnection is used by one thread at a time (the pool hands it out);
// RedisPool is thread-safe. Fork safety: a connection belongs to the process that opened it.
// In a forked child (the process pool's children) the pool never hands out a connection it
// inherited: their sockets are the parent's sessions, and two processes talking over one
// would read each other's replies.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runq/clock.hpp"
#include "runq/status.hpp"

namespace runq::internal {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // empty = the default user
  std::string password;  // empty = no AUTH
  Millis io_timeout_ms = 5000;

  std::string address() const;  // "host:port"
};

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// The arguments of one command. Views passed to add() are borrowed: they must outlive the
// command's round trip. Numbers and add_copy() strings are owned.
class RedisArgs {
 public:
  RedisArgs() = default;
  RedisArgs(std::initializer_list<std::string_view> args);
  RedisArgs(const RedisArgs&) = delete;
  RedisArgs& operator=(const RedisArgs&) = delete;
  RedisArgs(RedisArgs&&) = default;  // moving a deque keeps its elements where they are
  RedisArgs& operator=(RedisArgs&&) = default;

  RedisArgs& add(std::string_view arg);
  RedisArgs& add_copy(std::string arg);
  RedisArgs& add_int(std::int64_t value);
  void reserve(std::size_t n);

  int size() const { return static_cast<int>(argv_.size()); }
  const char** argv() const { return const_cast<const char**>(argv_.data()); }
  const std::size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> argv_;
  std::vector<std::size_t> lengths_;
  std::deque<std::string> owned_;  // deque: growing it never moves earlier strings
};

// Maps the state of a hiredis context and/or an error reply to a Status. `doing` names the
// operation ("reserving tasks"); messages read "DOING on redis at HOST:PORT: cause", except
// for connecting and authenticating ("connecting to redis at ...").
// Returns OK when neither the context nor the reply carries an error.
Status redis_status(const RedisEndpoint& endpoint, std::string_view doing, const redisContext* ctx,
                    const redisReply* reply);

// True when `reply` is an error reply starting with `prefix` (e.g. "NOSCRIPT").
bool is_error_reply(const redisReply* reply, std::string_view prefix);

class RedisConnection {
 public:
  // Connects, authenticates and selects the database.
  static Result<std::unique_ptr<RedisConnection>> open(const RedisEndpoint& endpoint);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends every command in one write and reads one reply per command. An error reply is a
  // reply, not a failure: the Status covers the connection only.
  Status pipeline(std::span<const RedisArgs* const> commands, std::vector<Reply>* replies,
                  std::string_view doing);
  // One command; error replies become the returned Status.
  Result<Reply> call(const RedisArgs& command, std::string_view doing);

  // For blocking commands: send now, wait for the reply with a precise client-side deadline.
  Status send(const RedisArgs& command, std::string_view doing);
  // Sends several commands in one write without reading the replies.
  Status send(std::span<const RedisArgs* const> commands, std::string_view doing);
  // True when a reply is ready within `timeout_ms`.
  bool wait_readable(Millis timeout_ms) const;
  // How long a read or write may block from now on (the endpoint's io_timeout_ms at connect).
  void set_io_timeout(Millis timeout_ms);
  Result<Reply> read_reply(std::string_view doing);
  // CLIENT ID of this connection (cached), used to unblock it from another connection.
  Result<std::int64_t> client_id();

  // False after an I/O error, or when the server closed the idle socket (e.g. it restarted).
  bool usable() const;
  // True after an I/O or protocol error: the connection must not be reused.
  bool failed() const { return ctx_->err != 0; }
  // True when this process forked since the connection was opened: it is the parent's.
  bool inherited() const;
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  RedisConnection(const RedisEndpoint& endpoint, redisContext* ctx);
  Status flush(std::string_view doing);
  Status handshake();

  RedisEndpoint endpoint_;
  redisContext* ctx_;
  std::int64_t client_id_ = -1;
  std::uint32_t forks_ = 0;  // the process's fork generation when it was opened
};

// Connections shared by the threads of one store. acquire() reuses an idle usable connection
// or opens a new one; a Handle returns it on destruction unless it broke.
class RedisPool {
 public:
  explicit RedisPool(RedisEndpoint endpoint, std::size_t max_idle = 32);

  class Handle {
   public:
    Handle(RedisPool* pool, std::unique_ptr<RedisConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&&) = default;
    Handle& operator=(Handle&&) = default;
    ~Handle();
    RedisConnection* operator->() const { return conn_.get(); }
    RedisConnection& operator*() const { return *conn_; }
    // Drops the connection instead of returning it (its protocol state is unknown).
    void discard() { conn_.reset(); }

   private:
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> conn_;
  };

  Result<Handle> acquire();
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  void give_back(std::unique_ptr<RedisConnection> conn);

  RedisEndpoint endpoint_;
  std::size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
};

}  // namespace runq::internal
