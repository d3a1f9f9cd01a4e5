// ExecutorPool: the executor threads. Each takes a task from the Fetcher (taking its turn at
// fetching when that is due), starts its lease in the LeaseTable, runs it on the Executor and
// hands the settlement to the Settler, until the fetcher has nothing more (the worker stops).
//
// Thread safety: start() and join() are called once each, by the Worker. The pool keeps no
// state of its own between tasks: each thread's locals are its own.
#pragma once

#include <thread>
#include <vector>

#include "runq/store.hpp"
#include "worker/internal/executor.hpp"
#include "worker/internal/fetcher.hpp"
#include "worker/internal/lease_table.hpp"
#include "worker/internal/settler.hpp"

namespace runq {
class App;
}

namespace runq::internal {

class ExecutorPool {
 public:
  // REQUIRES: every argument outlives the pool.
  ExecutorPool(const App& app, Store& store, Fetcher& fetcher, LeaseTable& leases, Settler& settler,
               Executor& executor)
      : app_(app),
        store_(store),
        fetcher_(fetcher),
        leases_(leases),
        settler_(settler),
        executor_(executor) {}
  ~ExecutorPool() { join(); }

  // Starts `n` executor threads.
  void start(int n);
  // Blocks until every executor thread ended (after the fetcher stopped).
  void join();

 private:
  void execute_loop(int slot);
  Millis soft_deadline(const Delivery& d) const;

  const App& app_;
  Store& store_;
  Fetcher& fetcher_;
  LeaseTable& leases_;
  Settler& settler_;
  Executor& executor_;
  std::vector<std::thread> threads_;
};

}  // namespace runq::internal
