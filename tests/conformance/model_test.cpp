// Conformance: seeded random sequences of operations replayed on the MemoryStore (the
// reference model) and on the store under test; every observable result must agree.
//
// Where the contract leaves a choice, the sequence avoids depending on it:
// - which of several equally ranked tasks a reserve hands out when one of them re-entered its
//   queue (release, retry, lapse, promotion): the request's `max` is then raised to take the
//   whole rank, and deliveries are compared as sets;
// - whether the last holder of a task that went back to its queue (or died) after its lease
//   lapsed may still settle it: such holders are not used;
// - records whose TTL passed but which no cleanup() has removed yet are not read.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "conformance/store_conformance.hpp"
#include "store/memory_store.hpp"

namespace runq::conformance {
namespace {

const std::vector<std::string> kQueues = {"a", "b", "c"};
const std::vector<std::string> kSchedules = {"s1", "s2"};
const std::vector<std::string> kWorkers = {"w0", "w1", "w2"};

struct Known {
  std::string queue;
  int priority = 0;
  int max_deliveries = 1;
  bool fresh = true;          // enqueued ready and never handed out or requeued since
  bool gone = false;          // purged or cleaned up: NotFound on both
  Millis result_expires = 0;  // finished: when its record expires
};

// How much of the contract one replay exercised (so that it cannot silently degenerate).
struct Coverage {
  int handed_out = 0;
  int redelivered = 0;  // deliveries > 1
  int settled = 0;
  int refused = 0;          // stale settlements, agreed on by both
  int invalid_batches = 0;  // enqueues refused as a whole
  int widened = 0;          // reserves whose max was raised to stay unambiguous
  int ticks_fired = 0;
  int tasks_read = 0;

  Coverage& operator+=(const Coverage& o) {
    handed_out += o.handed_out;
    redelivered += o.redelivered;
    settled += o.settled;
    refused += o.refused;
    invalid_batches += o.invalid_batches;
    widened += o.widened;
    ticks_fired += o.ticks_fired;
    tasks_read += o.tasks_read;
    return *this;
  }
};

struct Held {
  std::uint64_t model_token = 0;
  std::uint64_t real_token = 0;
  Millis lease_expires = 0;
  bool settled = false;
};

std::string info_text(const Result<TaskInfo>& r) {
  if (!r.ok()) return r.status().to_string();
  const TaskInfo& i = *r;
  return std::string(task_state_name(i.state)) + " queue=" + i.queue +
         " deliveries=" + std::to_string(i.deliveries) + " eta=" + std::to_string(i.eta) +
         " result=" + i.result;
}

class Replay {
 public:
  Replay(Store& model, Store& real, unsigned seed) : model_(model), real_(real), rng_(seed) {}

  // Runs `steps` random operations; stops at the first disagreement (a test failure).
  Coverage run(int steps) {
    for (step_ = 0; step_ < steps && !::testing::Test::HasFailure(); ++step_) one_step();
    if (!::testing::Test::HasFailure()) compare_all_tasks();
    return cov_;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  template <typename T>
  const T& one_of(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }
  std::string where() const { return "step " + std::to_string(step_) + " (" + op_ + ")"; }

  void one_step() {
    int r = pick(1, 100);
    if (r <= 14) {
      op_ = "advance time";
      now_ += chance(90) ? pick(0, 2500) : pick(10'000, 30'000);
    } else if (r <= 34) {
      do_enqueue();
    } else if (r <= 54) {
      do_reserve();
    } else if (r <= 68) {
      do_settle();
    } else if (r <= 74) {
      do_extend();
    } else if (r <= 77) {
      do_progress();
    } else if (r <= 85) {
      compare_task(random_known_id());
    } else if (r <= 87) {
      do_retry_dead();
    } else if (r <= 88) {
      do_purge(true);
    } else if (r <= 89) {
      do_purge(false);
    } else if (r <= 91) {
      do_cleanup();
    } else if (r <= 96) {
      do_schedule();
    } else {
      do_workers();
    }
  }

  // ---- producers ------------------------------------------------------------------------

  NewTask random_task() {
    NewTask t;
    if (!known_.empty() && chance(10)) {
      t.id = random_known_id();  // a duplicate, skipped by both
      if (known_[t.id].gone || !readable(t.id)) t.id = "x" + std::to_string(next_id_++);
    } else {
      t.id = "t" + std::to_string(next_id_++);
    }
    t.queue = one_of(kQueues);
    t.priority = one_of(std::vector<int>{0, 0, 1, 5, 9});
    t.eta = chance(70) ? 0 : now_ + pick(1, 5000);
    t.max_deliveries = pick(1, 3);
    t.body = "body-" + t.id + "-" + std::to_string(pick(0, 999));
    if (chance(4)) t.priority = 10;  // invalid: the whole batch is refused
    return t;
  }

  void do_enqueue() {
    op_ = "enqueue";
    std::vector<NewTask> batch;
    for (int n = pick(1, 3); n > 0; --n) batch.push_back(random_task());
    Status m = model_.enqueue(batch, now_);
    Status r = real_.enqueue(batch, now_);
    ASSERT_EQ(m.code(), r.code()) << where() << ": " << m.to_string() << " vs " << r.to_string();
    if (!m.ok()) {
      ++cov_.invalid_batches;
      return;
    }
    for (const NewTask& t : batch) add_known(t);
  }

  void add_known(const NewTask& t) {
    if (known_.count(t.id) != 0) return;
    known_[t.id] = Known{t.queue, t.priority, t.max_deliveries, t.eta <= now_, false, 0};
  }

  // ---- reserve ----------------------------------------------------------------------------

  // Raises `max` so that it never cuts through a rank holding a task that re-entered its queue.
  int unambiguous_max(const std::vector<std::string>& queues, int max) {
    struct Rank {
      int size = 0;
      bool all_fresh = true;
    };
    std::map<std::pair<std::ptrdiff_t, int>, Rank> ranks;  // by (queue preference, -priority)
    for (const auto& [id, k] : known_) {
      if (k.gone || !will_be_ready(id, k)) continue;
      Rank& rank =
          ranks[{std::find(queues.begin(), queues.end(), k.queue) - queues.begin(), -k.priority}];
      rank.size += 1;
      rank.all_fresh = rank.all_fresh && k.fresh;
    }
    int before = 0;
    for (const auto& [key, rank] : ranks) {
      if (before + rank.size > max) {
        return before < max && !rank.all_fresh ? before + rank.size : max;
      }
      before += rank.size;
    }
    return max;
  }

  bool will_be_ready(const std::string& id, const Known& k) {
    auto info = model_.get_task(id, now_);
    if (!info.ok()) return false;
    switch (info->state) {
      case TaskState::kPending:
        return true;
      case TaskState::kScheduled:
      case TaskState::kRetry:
        return info->eta <= now_;
      case TaskState::kReserved:
        return info->lease_expires <= now_ && info->deliveries < k.max_deliveries;
      default:
        return false;
    }
  }

  void do_reserve() {
    op_ = "reserve";
    ReserveRequest req;
    req.queues = kQueues;
    std::shuffle(req.queues.begin(), req.queues.end(), rng_);
    req.worker_id = one_of(kWorkers);
    req.lease_ms = pick(1000, 6000);
    req.now = now_;
    const int wanted = pick(1, 4);
    req.max = unambiguous_max(req.queues, wanted);
    if (req.max != wanted) ++cov_.widened;
    auto m = model_.reserve(req);
    auto r = real_.reserve(req);
    ASSERT_TRUE(m.ok() && r.ok()) << where() << ": " << m.status().to_string() << " vs "
                                  << r.status().to_string();
    using Row = std::tuple<std::string, std::string, std::string, int, Millis>;
    std::map<std::string, const Delivery*> real_by_id;
    std::vector<Row> mrows, rrows;
    for (const Delivery& d : *m)
      mrows.emplace_back(d.id, d.queue, d.body, d.deliveries, d.lease_expires);
    for (const Delivery& d : *r) {
      rrows.emplace_back(d.id, d.queue, d.body, d.deliveries, d.lease_expires);
      real_by_id[d.id] = &d;
    }
    std::sort(mrows.begin(), mrows.end());
    std::sort(rrows.begin(), rrows.end());
    ASSERT_EQ(mrows, rrows) << where() << ": handed out different tasks (id, queue, body, "
                            << "deliveries, lease_expires) for max=" << req.max;
    for (const Delivery& d : *m) record_delivery(d, *real_by_id.at(d.id));
    cov_.handed_out += static_cast<int>(m->size());
    last_reserve_now_ = now_;
    compare_queue_stats();
  }

  void record_delivery(const Delivery& m, const Delivery& r) {
    auto& list = held_[m.id];
    if (!list.empty()) {
      EXPECT_GT(r.token, list.back().real_token)
          << where() << ": token of " << m.id << " did not grow";
    }
    list.push_back(Held{m.token, r.token, m.lease_expires, false});
    if (m.deliveries > 1) ++cov_.redelivered;
    known_[m.id].fresh = false;
  }

  // ---- holders ------------------------------------------------------------------------------

  // A random holder whose standing does not depend on a choice the contract leaves open.
  std::optional<std::pair<std::string, std::size_t>> random_holder() {
    std::vector<std::pair<std::string, std::size_t>> current, stale;
    for (const auto& [id, list] : held_) {
      for (std::size_t k = 0; k < list.size(); ++k) {
        bool latest = k + 1 == list.size() && !list[k].settled;
        if (!latest) {
          stale.emplace_back(id, k);
        } else if (model_state(id) == TaskState::kReserved) {
          current.emplace_back(id, k);
        }
      }
    }
    if (!current.empty() && (stale.empty() || chance(80))) return one_of(current);
    if (!stale.empty()) return one_of(stale);
    return std::nullopt;
  }

  std::optional<TaskState> model_state(const std::string& id) {
    auto info = model_.get_task(id, now_);
    return info.ok() ? std::optional<TaskState>(info->state) : std::nullopt;
  }

  Settlement random_settlement(const std::string& id, const Held& h) {
    Settlement s;
    s.id = id;
    int r = pick(1, 100);
    if (r <= 50) {
      s.outcome = Outcome::kAck;
      s.state = r <= 35 ? TaskState::kSuccess : TaskState::kFailure;
      s.result = "result-" + id + "-" + std::to_string(step_);
      s.result_ttl = one_of(std::vector<Millis>{1000, 60'000, 86'400'000});
    } else if (r <= 70) {
      s.outcome = Outcome::kRetry;
      s.state = TaskState::kRetry;
      s.retry_at = now_ + pick(1, 4000);
      if (chance(50)) s.body = "body-" + id + "-retry" + std::to_string(step_);
    } else if (r <= 80) {
      s.outcome = Outcome::kDeadLetter;
      s.state = TaskState::kDead;
      s.reason = "reason-" + std::to_string(step_);
    } else {
      s.outcome = Outcome::kRelease;
      s.state = TaskState::kPending;
    }
    s.token = h.model_token;
    return s;
  }

  void do_settle() {
    op_ = "settle";
    std::vector<Settlement> ms, rs;
    std::vector<std::pair<std::string, std::size_t>> who;
    for (int n = pick(1, 2); n > 0; --n) {
      auto h = random_holder();
      if (!h || std::any_of(who.begin(), who.end(), [&](auto& w) { return w.first == h->first; }))
        continue;
      const Held& held = held_[h->first][h->second];
      ms.push_back(random_settlement(h->first, held));
      rs.push_back(ms.back());
      rs.back().token = held.real_token;
      who.push_back(*h);
    }
    if (ms.empty()) return;
    auto m = model_.settle(ms, now_);
    auto r = real_.settle(rs, now_);
    ASSERT_TRUE(m.ok() && r.ok()) << where() << ": " << m.status().to_string() << " vs "
                                  << r.status().to_string();
    ASSERT_EQ(*m, *r) << where() << ": settle flags differ";
    for (std::size_t i = 0; i < ms.size(); ++i) {
      ++((*m)[i] ? cov_.settled : cov_.refused);
      if (!(*m)[i]) continue;
      held_[who[i].first][who[i].second].settled = true;
      if (ms[i].outcome == Outcome::kAck) known_[ms[i].id].result_expires = now_ + ms[i].result_ttl;
    }
    compare_counters();
  }

  void do_extend() {
    op_ = "extend";
    auto h = random_holder();
    if (!h) return;
    Held& held = held_[h->first][h->second];
    Millis lease = pick(1000, 6000);
    auto m = model_.extend(std::vector<LeaseRef>{{h->first, held.model_token}}, lease, now_);
    auto r = real_.extend(std::vector<LeaseRef>{{h->first, held.real_token}}, lease, now_);
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    ASSERT_EQ(*m, *r) << where() << ": extend flags differ for " << h->first;
    if ((*m)[0]) held.lease_expires = now_ + lease;
  }

  void do_progress() {
    op_ = "set_progress";
    auto h = random_holder();
    if (!h) return;
    const Held& held = held_[h->first][h->second];
    Status m = model_.set_progress({h->first, held.model_token}, 0.5);
    Status r = real_.set_progress({h->first, held.real_token}, 0.5);
    ASSERT_EQ(m.code(), r.code()) << where() << ": " << m.to_string() << " vs " << r.to_string();
  }

  // ---- admin ----------------------------------------------------------------------------

  void do_retry_dead() {
    op_ = "retry_dead";
    std::vector<std::string> ids;
    if (chance(50)) {
      for (int n = pick(1, 3); n > 0 && !known_.empty(); --n) ids.push_back(random_known_id());
    }
    auto m = model_.retry_dead(ids, now_);
    auto r = real_.retry_dead(ids, now_);
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    ASSERT_EQ(*m, *r) << where() << ": requeued counts differ";
  }

  void do_purge(bool queue) {
    op_ = queue ? "purge_queue" : "purge_dead";
    const std::string& q = one_of(kQueues);
    auto m = queue ? model_.purge_queue(q) : model_.purge_dead();
    auto r = queue ? real_.purge_queue(q) : real_.purge_dead();
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    ASSERT_EQ(*m, *r) << where() << ": purged counts differ";
    mark_gone();
  }

  void do_cleanup() {
    op_ = "cleanup";
    ASSERT_TRUE(model_.cleanup(now_).ok() && real_.cleanup(now_).ok()) << where();
    last_cleanup_now_ = now_;
    mark_gone();
  }

  void mark_gone() {
    for (auto& [id, k] : known_) {
      if (!k.gone && readable(id) && !model_state(id)) k.gone = true;
    }
  }

  void do_schedule() {
    op_ = "schedule";
    const std::string& s = one_of(kSchedules);
    if (chance(20)) {
      bool paused = chance(50);
      std::string name = chance(80) ? s : "never-registered";
      ASSERT_EQ(model_.set_schedule_paused(name, paused).code(),
                real_.set_schedule_paused(name, paused).code())
          << where();
    } else if (chance(10)) {
      ASSERT_TRUE(model_.put_schedule_info(s, "info" + std::to_string(step_)).ok() &&
                  real_.put_schedule_info(s, "info" + std::to_string(step_)).ok())
          << where();
    } else {
      Millis& last = ticks_[s];
      Millis tick = last + one_of(std::vector<Millis>{-1000, 0, 60'000, 60'000});
      last = std::max(last, tick);
      NewTask t;
      t.id = s + "@" + std::to_string(tick);
      t.queue = one_of(kQueues);
      t.body = "body-" + t.id;
      auto m = model_.claim_tick(s, tick, t, now_);
      auto r = real_.claim_tick(s, tick, t, now_);
      ASSERT_TRUE(m.ok() && r.ok()) << where();
      ASSERT_EQ(*m, *r) << where() << ": claim of " << s << " tick " << tick;
      if (*m) add_known(t);
      if (*m) ++cov_.ticks_fired;
    }
    auto m = model_.list_schedules();
    auto r = real_.list_schedules();
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    ASSERT_EQ(m->size(), r->size()) << where();
    for (std::size_t i = 0; i < m->size(); ++i) {
      const ScheduleState &a = (*m)[i], &b = (*r)[i];
      EXPECT_EQ(std::tie(a.name, a.last_tick, a.paused, a.info),
                std::tie(b.name, b.last_tick, b.paused, b.info))
          << where();
    }
  }

  void do_workers() {
    op_ = "workers";
    const std::string& id = one_of(kWorkers);
    if (chance(70)) {
      WorkerInfo w;
      w.id = id;
      w.expires = now_ + pick(1000, 10'000);
      ASSERT_TRUE(model_.heartbeat(w).ok() && real_.heartbeat(w).ok()) << where();
      worker_expires_[id] = w.expires;
    } else if (worker_expires_.count(id) == 0 || worker_expires_[id] > now_) {
      ASSERT_EQ(model_.remove_worker(id).code(), real_.remove_worker(id).code()) << where();
      worker_expires_.erase(id);
    }
    compare_counters();
  }

  // ---- comparisons ----------------------------------------------------------------------------

  std::string random_known_id() {
    if (known_.empty()) return "";
    auto it = known_.begin();
    std::advance(it, pick(0, static_cast<int>(known_.size()) - 1));
    return it->first;
  }

  // Readable: its state does not depend on whether an expired record was cleaned up yet.
  bool readable(const std::string& id) {
    const Known& k = known_[id];
    return k.gone || k.result_expires == 0 || k.result_expires > now_ ||
           k.result_expires <= last_cleanup_now_;
  }

  void compare_task(const std::string& id) {
    op_ = "get_task " + id;
    if (id.empty() || !readable(id)) return;
    auto m = model_.get_task(id, now_);
    auto r = real_.get_task(id, now_);
    std::string both = "\n  model: " + info_text(m) + "\n  store: " + info_text(r);
    ASSERT_EQ(m.status().code(), r.status().code()) << where() << both;
    if (!m.ok()) return;
    ++cov_.tasks_read;
    ASSERT_EQ(m->state, r->state) << where() << both;
    EXPECT_EQ(m->result, r->result) << where() << both;
    TaskState s = m->state;
    if (!is_final(s)) {
      EXPECT_EQ(m->queue, r->queue) << where() << both;
      EXPECT_EQ(m->priority, r->priority) << where() << both;
    }
    if (!is_final(s) || s == TaskState::kDead) {
      EXPECT_EQ(m->body, r->body) << where() << both;
    }
    if (s == TaskState::kScheduled || s == TaskState::kRetry) {
      EXPECT_EQ(m->eta, r->eta) << where();
    }
    if (s == TaskState::kReserved) {
      EXPECT_EQ(std::tie(m->worker_id, m->lease_expires, m->deliveries),
                std::tie(r->worker_id, r->lease_expires, r->deliveries))
          << where() << both;
    }
    if (s == TaskState::kDead) {
      if (m->dead_reason.find("lease") == std::string::npos) {
        EXPECT_EQ(m->dead_reason, r->dead_reason) << where();
      } else {
        EXPECT_THAT(r->dead_reason, ::testing::HasSubstr("lease")) << where();
      }
    }
  }

  void compare_all_tasks() {
    for (const auto& [id, k] : known_) compare_task(id);
  }

  using Counts = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
  static std::map<std::string, Counts> counts_of(const StoreStats& s) {
    std::map<std::string, Counts> out;
    for (const QueueStats& q : s.queues) {
      Counts c{q.pending, q.scheduled, q.running, q.dead};
      if (c != Counts{0, 0, 0, 0}) out[q.queue] = c;
    }
    return out;
  }

  // Right after a reserve at now_, every due task was promoted and every lapse handled.
  void compare_queue_stats() {
    auto m = model_.stats(now_);
    auto r = real_.stats(now_);
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    ASSERT_EQ(counts_of(*m), counts_of(*r))
        << where() << ": per-queue (pending, scheduled, running, dead) differ";
  }

  void compare_counters() {
    auto m = model_.stats(now_);
    auto r = real_.stats(now_);
    ASSERT_TRUE(m.ok() && r.ok()) << where();
    EXPECT_EQ(std::tie(m->completed, m->failed, m->duplicates),
              std::tie(r->completed, r->failed, r->duplicates))
        << where() << ": counters differ";
    std::vector<std::string> mw, rw;
    for (const WorkerInfo& w : m->workers) mw.push_back(w.id);
    for (const WorkerInfo& w : r->workers) rw.push_back(w.id);
    std::sort(mw.begin(), mw.end());
    std::sort(rw.begin(), rw.end());
    EXPECT_EQ(mw, rw) << where() << ": alive workers differ";
  }

  Store& model_;
  Store& real_;
  std::mt19937 rng_;
  Coverage cov_;
  int step_ = 0;
  std::string op_;
  Millis now_ = kT0;
  Millis last_reserve_now_ = 0;
  Millis last_cleanup_now_ = 0;
  int next_id_ = 0;
  std::map<std::string, Known> known_;
  std::map<std::string, std::vector<Held>> held_;
  std::map<std::string, Millis> ticks_;
  std::map<std::string, Millis> worker_expires_;
};

TEST_P(StoreConformance, RandomOperationsMatchTheMemoryModel) {
  Coverage total;
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::unique_ptr<Store> model = new_memory_store();
    std::unique_ptr<Store> real = another_store();
    ASSERT_NE(real, nullptr);
    total += Replay(*model, *real, seed).run(300);
    if (HasFailure()) return;
  }
  // The seeds are fixed, so these only change when the replay itself changes.
  EXPECT_GE(total.handed_out, 100);
  EXPECT_GE(total.redelivered, 10);
  EXPECT_GE(total.settled, 50);
  EXPECT_GE(total.refused, 10);
  EXPECT_GE(total.invalid_batches, 3);
  EXPECT_GE(total.widened, 3);
  EXPECT_GE(total.ticks_fired, 5);
  EXPECT_GE(total.tasks_read, 100);
  std::printf(
      "replayed: %d handed out (%d redelivered), %d settled, %d refused, %d invalid batches, "
      "%d widened reserves, %d ticks fired, %d task reads compared\n",
      total.handed_out, total.redelivered, total.settled, total.refused, total.invalid_batches,
      total.widened, total.ticks_fired, total.tasks_read);
}

}  // namespace
}  // namespace runq::conformance
