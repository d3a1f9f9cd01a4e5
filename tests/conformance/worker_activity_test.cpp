// Conformance: WorkerInfo::activity (the JSON a worker reports with its heartbeat) is kept as
// given, replaced by the next heartbeat, and gone with the worker.
#include <string>

#include "conformance/store_conformance.hpp"

namespace runq::conformance {
namespace {

using ::runq::testing::IsOk;

WorkerInfo beating(std::string id, std::string activity) {
  WorkerInfo w;
  w.id = std::move(id);
  w.host = "host-1";
  w.queues = {"default"};
  w.last_seen = kT0;
  w.expires = kT0 + 60 * kSecond;
  w.activity = std::move(activity);
  return w;
}

TEST_P(StoreConformance, HeartbeatKeepsTheWorkersActivity) {
  const std::string first = R"({"v":1,"running":[{"id":"t1","task":"add","started":1}]})";
  const std::string big(16 * 1024, 'x');  // a few KiB is the norm; 16 KiB must fit too
  ASSERT_THAT(store().heartbeat(beating("w1", first)), IsOk());
  ASSERT_THAT(store().heartbeat(beating("w2", "")), IsOk());
  StoreStats s = all_stats();
  ASSERT_EQ(s.workers.size(), 2u);
  EXPECT_EQ(s.workers[0].activity, first);
  EXPECT_EQ(s.workers[1].activity, "");

  ASSERT_THAT(store().heartbeat(beating("w1", big)), IsOk());
  EXPECT_EQ(all_stats().workers[0].activity, big);

  ASSERT_THAT(store().remove_worker("w1"), IsOk());
  ASSERT_THAT(store().heartbeat(beating("w1", "")), IsOk());  // back, with nothing to report
  EXPECT_EQ(all_stats().workers[0].activity, "");
}

}  // namespace
}  // namespace runq::conformance
