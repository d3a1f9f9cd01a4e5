#include "support/pool_case.hpp"

namespace runq::testing {

void PrintTo(const PoolCase& c, std::ostream* os) {
  *os << c.store << (c.pool == WorkerPool::kProcesses ? " processes" : " threads");
}

std::string pool_case_name(const ::testing::TestParamInfo<PoolCase>& info) {
  return std::string(info.param.store) +
         (info.param.pool == WorkerPool::kProcesses ? "_processes" : "_threads");
}

std::string StoreServers::url(const std::string& store) {
  if (store == "sqlite") return "sqlite:" + dir_.file("runq.db");
#ifdef RUNQ_WITH_POSTGRES
  if (store == "postgres") {
    if (postgres_.start()) return postgres_.url();
    if (running_under_ci())
      ADD_FAILURE() << "PostgreSQL is required under CI: " << postgres_.error();
    return "";
  }
#endif
  if (!redis_.start()) {
    if (running_under_ci())
      ADD_FAILURE() << "redis-server is required under CI: " << redis_.error();
    return "";
  }
  return redis_.url();
}

}  // namespace runq::testing
