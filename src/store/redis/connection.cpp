#include "store/redis/connection.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include "core/fork_generation.hpp"

namespace runq::internal {
namespace {

timeval to_timeval(Millis ms) {
  if (ms < 1) ms = 1;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

// hiredis writes with write(2): a server that went away would raise SIGPIPE and kill the
// process. Block it in this thread for the duration of a round trip and swallow a SIGPIPE
// that the round trip raised, leaving the process's signal handling untouched.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

Status io_error(const RedisEndpoint& endpoint, std::string_view doing, const redisContext* ctx) {
  std::string cause = ctx->errstr;
  if (ctx->err == REDIS_ERR_EOF) cause = "the server closed the connection";
  if (ctx->err == REDIS_ERR_IO && (cause == "Resource temporarily unavailable" ||
                                   cause.find("timed out") != std::string::npos)) {
    cause = "no reply within " + std::to_string(endpoint.io_timeout_ms) + " ms";
  }
  std::string message = std::string(doing) + " redis at " + endpoint.address() + ": " + cause;
  if (ctx->err == REDIS_ERR_PROTOCOL || ctx->err == REDIS_ERR_OOM) {
    return internal_error(std::move(message));
  }
  return unavailable_error(std::move(message));
}

Status reply_error(const RedisEndpoint& endpoint, std::string_view doing, std::string_view msg) {
  const std::string at = " redis at " + endpoint.address() + ": ";
  if (starts_with(msg, "WRONGPASS") || starts_with(msg, "ERR invalid password") ||
      starts_with(msg, "ERR invalid username-password")) {
    return failed_precondition_error("authenticating to" + at +
                                     "wrong password (check the password in the redis:// URL)");
  }
  if (starts_with(msg, "NOAUTH")) {
    return failed_precondition_error(
        "authenticating to" + at +
        "the server requires a password (put it in the URL: redis://:PASSWORD@host:port)");
  }
  if (msg.find("without any password configured") != std::string_view::npos) {
    return failed_precondition_error("authenticating to" + at +
                                     "the server has no password set (remove it from the URL)");
  }
  std::string message = std::string(doing) + at + std::string(msg);
  for (std::string_view transient :
       {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "UNBLOCKED"}) {
    if (starts_with(msg, transient)) return unavailable_error(std::move(message));
  }
  // A bounded queue without room (flow_lib.lua): the script wrote the whole message.
  if (starts_with(msg, "QUEUE_FULL ")) return resource_exhausted_error(std::string(msg.substr(11)));
  if (starts_with(msg, "OOM")) return resource_exhausted_error(std::move(message));
  return internal_error(std::move(message));
}

}  // namespace

std::string RedisEndpoint::address() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// ---- RedisArgs ----------------------------------------------------------------------------

RedisArgs::RedisArgs(std::initializer_list<std::string_view> args) {
  reserve(args.size());
  for (std::string_view a : args) add(a);
}

RedisArgs& RedisArgs::add(std::string_view arg) {
  argv_.push_back(arg.data());
  lengths_.push_back(arg.size());
  return *this;
}

RedisArgs& RedisArgs::add_copy(std::string arg) {
  owned_.push_back(std::move(arg));
  return add(owned_.back());
}

RedisArgs& RedisArgs::add_int(std::int64_t value) { return add_copy(std::to_string(value)); }

void RedisArgs::reserve(std::size_t n) {
  argv_.reserve(n);
  lengths_.reserve(n);
}

// ---- errors -------------------------------------------------------------------------------

Status redis_status(const RedisEndpoint& endpoint, std::string_view doing, const redisContext* ctx,
                    const redisReply* reply) {
  if (ctx != nullptr && ctx->err != 0) return io_error(endpoint, doing, ctx);
  if (reply == nullptr) {
    return internal_error(std::string(doing) + " redis at " + endpoint.address() + ": no reply");
  }
  if (reply->type != REDIS_REPLY_ERROR) return ok_status();
  return reply_error(endpoint, doing, std::string_view(reply->str, reply->len));
}

bool is_error_reply(const redisReply* reply, std::string_view prefix) {
  return reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
         std::string_view(reply->str, reply->len).starts_with(prefix);
}

// ---- RedisConnection ------------------------------------------------------------------------

RedisConnection::RedisConnection(const RedisEndpoint& endpoint, redisContext* ctx)
    : endpoint_(endpoint), ctx_(ctx), forks_(fork_generation()) {}

// redisFree() only closes the socket (no QUIT): closing an inherited one in a child leaves
// the parent's session open.
RedisConnection::~RedisConnection() { redisFree(ctx_); }

bool RedisConnection::inherited() const { return forks_ != fork_generation(); }

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(const RedisEndpoint& endpoint) {
  redisContext* ctx = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                              to_timeval(endpoint.io_timeout_ms));
  if (ctx == nullptr) {
    return internal_error("connecting to redis at " + endpoint.address() + ": out of memory");
  }
  std::unique_ptr<RedisConnection> conn(new RedisConnection(endpoint, ctx));
  if (ctx->err != 0) return redis_status(endpoint, "connecting to", ctx, nullptr);
  redisSetTimeout(ctx, to_timeval(endpoint.io_timeout_ms));
  redisEnableKeepAlive(ctx);
  RUNQ_RETURN_IF_ERROR(conn->handshake());
  return conn;
}

Status RedisConnection::handshake() {
  RedisArgs auth;
  RedisArgs select;
  std::vector<const RedisArgs*> commands;
  if (!endpoint_.password.empty()) {
    auth.add("AUTH");
    if (!endpoint_.username.empty()) auth.add(endpoint_.username);
    auth.add(endpoint_.password);
    commands.push_back(&auth);
  }
  if (endpoint_.db != 0) {
    select.add("SELECT").add_int(endpoint_.db);
    commands.push_back(&select);
  }
  if (commands.empty()) return ok_status();
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(pipeline(commands, &replies, "authenticating to"));
  for (const Reply& r : replies) {
    if (is_error_reply(r.get(), "ERR DB index")) {
      return invalid_argument_error("selecting database " + std::to_string(endpoint_.db) +
                                    " on redis at " + endpoint_.address() + ": " +
                                    std::string(r->str, r->len));
    }
    RUNQ_RETURN_IF_ERROR(redis_status(endpoint_, "authenticating to", nullptr, r.get()));
  }
  return ok_status();
}

Status RedisConnection::pipeline(std::span<const RedisArgs* const> commands,
                                 std::vector<Reply>* replies, std::string_view doing) {
  SigpipeGuard guard;
  for (const RedisArgs* c : commands) {
    if (redisAppendCommandArgv(ctx_, c->size(), c->argv(), c->lengths()) != REDIS_OK) {
      return redis_status(endpoint_, doing, ctx_, nullptr);
    }
  }
  replies->clear();
  replies->reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) return redis_status(endpoint_, doing, ctx_, nullptr);
    replies->emplace_back(static_cast<redisReply*>(raw));
  }
  return ok_status();
}

Result<Reply> RedisConnection::call(const RedisArgs& command, std::string_view doing) {
  const RedisArgs* one[] = {&command};
  std::vector<Reply> replies;
  RUNQ_RETURN_IF_ERROR(pipeline(one, &replies, doing));
  RUNQ_RETURN_IF_ERROR(redis_status(endpoint_, doing, nullptr, replies[0].get()));
  return std::move(replies[0]);
}

Status RedisConnection::flush(std::string_view doing) {
  SigpipeGuard guard;
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK)
      return redis_status(endpoint_, doing, ctx_, nullptr);
  }
  return ok_status();
}

Status RedisConnection::send(const RedisArgs& command, std::string_view doing) {
  const RedisArgs* one[] = {&command};
  return send(one, doing);
}

Status RedisConnection::send(std::span<const RedisArgs* const> commands, std::string_view doing) {
  for (const RedisArgs* c : commands) {
    if (redisAppendCommandArgv(ctx_, c->size(), c->argv(), c->lengths()) != REDIS_OK) {
      return redis_status(endpoint_, doing, ctx_, nullptr);
    }
  }
  return flush(doing);
}

void RedisConnection::set_io_timeout(Millis timeout_ms) {
  redisSetTimeout(ctx_, to_timeval(timeout_ms));
}

bool RedisConnection::wait_readable(Millis timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{ctx_->fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(left, 0, 1 << 30)));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

Result<Reply> RedisConnection::read_reply(std::string_view doing) {
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK) return redis_status(endpoint_, doing, ctx_, nullptr);
  Reply reply(static_cast<redisReply*>(raw));
  RUNQ_RETURN_IF_ERROR(redis_status(endpoint_, doing, nullptr, reply.get()));
  return reply;
}

Result<std::int64_t> RedisConnection::client_id() {
  if (client_id_ >= 0) return client_id_;
  RUNQ_ASSIGN_OR_RETURN(Reply r, call(RedisArgs{"CLIENT", "ID"}, "identifying the connection on"));
  if (r->type != REDIS_REPLY_INTEGER) return internal_error("CLIENT ID: unexpected reply");
  client_id_ = r->integer;
  return client_id_;
}

bool RedisConnection::usable() const {
  if (ctx_->err != 0) return false;
  // An idle connection has nothing to read: readable means closed by the server (or garbage).
  pollfd p{ctx_->fd, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) == 0;
}

// ---- RedisPool ----------------------------------------------------------------------------

RedisPool::RedisPool(RedisEndpoint endpoint, std::size_t max_idle)
    : endpoint_(std::move(endpoint)), max_idle_(max_idle) {}

RedisPool::Handle::~Handle() {
  if (conn_ != nullptr && pool_ != nullptr) pool_->give_back(std::move(conn_));
}

Result<RedisPool::Handle> RedisPool::acquire() {
  std::vector<std::unique_ptr<RedisConnection>> dead;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!idle_.empty()) {
      std::unique_ptr<RedisConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->inherited() && conn->usable()) return Handle(this, std::move(conn));
      dead.push_back(std::move(conn));
    }
  }
  RUNQ_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> conn, RedisConnection::open(endpoint_));
  return Handle(this, std::move(conn));
}

void RedisPool::give_back(std::unique_ptr<RedisConnection> conn) {
  if (conn->failed() || conn->inherited()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

}  // namespace runq::internal
