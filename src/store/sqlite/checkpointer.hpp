// Checkpointer: copies the WAL back into the database file on a background thread.
//
// SQLite's automatic checkpoint runs inside the COMMIT of whichever call crossed the threshold,
// and with synchronous=NORMAL a checkpoint is where the fsyncs happen (two of them, ~10 ms
// each on an ordinary disk). Left there, a batch call now and then takes 20 ms longer while
// holding the store's write mutex. Instead every pooled connection reports the WAL size after
// each commit (on_commit), and this thread runs a PASSIVE checkpoint, which never blocks
// readers or writers, once the WAL holds kThresholdPages or more.
//
// Thread safety: on_commit may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/sqlite/connection.hpp"

namespace runq::sqlite {

class Checkpointer {
 public:
  static constexpr int kThresholdPages = 1000;  // SQLite's own default

  // `options` open the thread's own connection.
  explicit Checkpointer(ConnectionOptions options);
  ~Checkpointer();  // stops and joins the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Called after each commit with the number of pages in the WAL.
  void on_commit(int wal_pages);

 private:
  void run();

  ConnectionOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false;   // guarded by mu_
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace runq::sqlite
