#include "store/sqlite/checkpointer.hpp"

#include <utility>

namespace runq::sqlite {

Checkpointer::Checkpointer(ConnectionOptions options) : options_(std::move(options)) {
  options_.on_wal_commit = nullptr;  // the thread's connection only checkpoints
  thread_ = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Checkpointer::on_commit(int wal_pages) {
  if (wal_pages < kThresholdPages) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due_ = true;
  }
  cv_.notify_one();
}

void Checkpointer::run() {
  std::unique_ptr<Connection> conn;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) return;
    due_ = false;
    lock.unlock();
    if (conn == nullptr) {
      Result<std::unique_ptr<Connection>> opened = Connection::open(options_);
      if (opened.ok()) conn = std::move(opened).value();
    }
    // Failures are harmless: SQLITE_BUSY means another process is checkpointing, and the next
    // commit past the threshold asks again.
    if (conn != nullptr) {
      sqlite3_wal_checkpoint_v2(conn->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    lock.lock();
  }
}

}  // namespace runq::sqlite
