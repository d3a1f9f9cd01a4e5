// App's flow-control calls (pause, resume, limit a queue) and the wait for room in a bounded
// queue behind EnqueueOptions::block_when_full.
#include <algorithm>
#include <chrono>
#include <thread>

#include "app/internal/enqueue_room.hpp"
#include "runq/app.hpp"
#include "runq/error.hpp"

namespace runq {
namespace {

// The App's store, or the error of opening it.
Result<std::shared_ptr<Store>> app_store(App& app) {
  try {
    return app.store();
  } catch (const Error& e) {
    return e.status();
  }
}

}  // namespace

Status App::pause_queue(std::string_view queue) {
  RUNQ_ASSIGN_OR_RETURN(std::shared_ptr<Store> s, app_store(*this));
  return s->set_queue_paused(queue, true);
}

Status App::resume_queue(std::string_view queue) {
  RUNQ_ASSIGN_OR_RETURN(std::shared_ptr<Store> s, app_store(*this));
  return s->set_queue_paused(queue, false);
}

Status App::limit_queue(std::string_view queue, std::int64_t max_length) {
  RUNQ_ASSIGN_OR_RETURN(std::shared_ptr<Store> s, app_store(*this));
  return s->set_queue_limit(queue, max_length);
}

Result<std::vector<QueueControl>> App::queue_controls() {
  RUNQ_ASSIGN_OR_RETURN(std::shared_ptr<Store> s, app_store(*this));
  return s->queue_controls();
}

namespace internal {

namespace {

// One enqueue; through enqueue_unique when a task has a unique key (unique jobs).
Status enqueue_once(Store& store, std::span<const NewTask> tasks, Millis now,
                    std::vector<std::string>* held) {
  const bool unique = std::any_of(tasks.begin(), tasks.end(),
                                  [](const NewTask& t) { return !t.unique.key.empty(); });
  if (!unique) return store.enqueue(tasks, now);
  Result<std::vector<std::string>> r = store.enqueue_unique(tasks, now);
  if (!r.ok()) return r.status();
  if (held != nullptr) *held = std::move(r).value();
  return ok_status();
}

}  // namespace

Status enqueue_with_room(Store& store, std::span<const NewTask> tasks, Millis now, Millis block_ms,
                         const Clock& clock, std::vector<std::string>* held) {
  Status st = enqueue_once(store, tasks, now, held);
  if (!is_resource_exhausted(st) || block_ms <= 0) return st;
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + std::chrono::milliseconds(block_ms);
  // Stores have no notification of room; the pause grows so that a long wait costs little.
  auto pause = std::chrono::milliseconds(5);
  while (is_resource_exhausted(st) && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(
        std::min<steady_clock::duration>(pause, deadline - steady_clock::now()));
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
    st = enqueue_once(store, tasks, std::max(now, clock.now_ms()), held);
  }
  return st;
}

}  // namespace internal
}  // namespace runq
