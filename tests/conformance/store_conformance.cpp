// The StoreConformance fixture and its helpers.
#include "conformance/store_conformance.hpp"

#include <cstdlib>
#include <string_view>

namespace runq::conformance {
namespace {

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && (std::string_view(ci) == "true" || std::string_view(ci) == "1");
}

}  // namespace

NewTask make_task(std::string id, std::string queue, int priority, Millis eta) {
  NewTask t;
  t.body = "body-of-" + id;
  t.id = std::move(id);
  t.queue = std::move(queue);
  t.priority = priority;
  t.eta = eta;
  return t;
}

Settlement ack_of(const Delivery& d, std::string result, TaskState state) {
  Settlement s;
  s.outcome = Outcome::kAck;
  s.id = d.id;
  s.token = d.token;
  s.state = state;
  s.result = std::move(result);
  return s;
}

Settlement retry_of(const Delivery& d, Millis retry_at, std::string body) {
  Settlement s;
  s.outcome = Outcome::kRetry;
  s.id = d.id;
  s.token = d.token;
  s.state = TaskState::kRetry;
  s.retry_at = retry_at;
  s.body = std::move(body);
  return s;
}

Settlement dead_letter_of(const Delivery& d, std::string reason) {
  Settlement s;
  s.outcome = Outcome::kDeadLetter;
  s.id = d.id;
  s.token = d.token;
  s.state = TaskState::kDead;
  s.reason = std::move(reason);
  return s;
}

Settlement release_of(const Delivery& d) {
  Settlement s;
  s.outcome = Outcome::kRelease;
  s.id = d.id;
  s.token = d.token;
  s.state = TaskState::kPending;
  return s;
}

LeaseRef lease_of(const Delivery& d) { return {d.id, d.token}; }

std::vector<std::string> ids_of(const std::vector<Delivery>& ds) {
  std::vector<std::string> ids;
  for (const Delivery& d : ds) ids.push_back(d.id);
  return ids;
}

void StoreConformance::SetUp() {
  const StoreBackend& backend = GetParam();
  if (backend.unavailable) {
    std::string why = backend.unavailable();
    if (!why.empty()) {
      if (under_ci()) FAIL() << backend.name << " is required under CI: " << why;
      GTEST_SKIP() << backend.name << " not available: " << why;
    }
  }
  store_ = another_store();
  ASSERT_NE(store_, nullptr);
}

std::unique_ptr<Store> StoreConformance::another_store() {
  auto store = GetParam().factory();
  if (!store.ok()) {
    ADD_FAILURE() << "creating a " << GetParam().name << " store: " << store.status().to_string();
    return nullptr;
  }
  return std::move(store).value();
}

void StoreConformance::enqueue(std::vector<NewTask> tasks, Millis now) {
  EXPECT_THAT(store_->enqueue(tasks, now), ::runq::testing::IsOk());
}

std::vector<Delivery> StoreConformance::reserve(std::vector<std::string> queues, int max,
                                                Millis now, Millis lease_ms, std::string worker) {
  ReserveRequest req;
  req.queues = std::move(queues);
  req.worker_id = std::move(worker);
  req.max = max;
  req.lease_ms = lease_ms;
  req.now = now;
  auto out = store_->reserve(req);
  EXPECT_THAT(out, ::runq::testing::IsOk());
  return out.ok() ? std::move(out).value() : std::vector<Delivery>{};
}

Delivery StoreConformance::reserve_one(std::string queue, Millis now, Millis lease_ms,
                                       std::string worker) {
  auto out = reserve({std::move(queue)}, 1, now, lease_ms, std::move(worker));
  EXPECT_EQ(out.size(), 1u) << "expected exactly one task to be reserved";
  return out.empty() ? Delivery{} : out.front();
}

std::vector<bool> StoreConformance::settle(std::vector<Settlement> s, Millis now) {
  auto out = store_->settle(s, now);
  EXPECT_THAT(out, ::runq::testing::IsOk());
  if (out.ok()) {
    EXPECT_EQ(out->size(), s.size()) << "settle must return one flag per input";
  }
  return out.ok() ? std::move(out).value() : std::vector<bool>(s.size(), false);
}

bool StoreConformance::settle_one(const Settlement& s, Millis now) {
  auto flags = settle({s}, now);
  return !flags.empty() && flags.front();
}

std::vector<bool> StoreConformance::extend(std::vector<LeaseRef> leases, Millis lease_ms,
                                           Millis now) {
  auto out = store_->extend(leases, lease_ms, now);
  EXPECT_THAT(out, ::runq::testing::IsOk());
  if (out.ok()) {
    EXPECT_EQ(out->size(), leases.size()) << "extend must return one flag per input";
  }
  return out.ok() ? std::move(out).value() : std::vector<bool>(leases.size(), false);
}

TaskInfo StoreConformance::task_info(const std::string& id, Millis now) {
  auto info = store_->get_task(id, now);
  EXPECT_THAT(info, ::runq::testing::IsOk()) << "get_task(" << id << ")";
  return info.ok() ? std::move(info).value() : TaskInfo{};
}

StoreStats StoreConformance::all_stats(Millis now) {
  auto s = store_->stats(now);
  EXPECT_THAT(s, ::runq::testing::IsOk());
  return s.ok() ? std::move(s).value() : StoreStats{};
}

QueueStats StoreConformance::queue_stats(const std::string& queue, Millis now) {
  for (const QueueStats& q : all_stats(now).queues) {
    if (q.queue == queue) return q;
  }
  QueueStats empty;
  empty.queue = queue;
  return empty;
}

}  // namespace runq::conformance
