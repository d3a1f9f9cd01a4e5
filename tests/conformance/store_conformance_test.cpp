// Runs the StoreConformance suite against every backend of the registry (store_backends()),
// each made from the fixture it declares (StoreBackendInfo::test_fixture, through
// tests/support/store_fixtures.cpp). A backend with an empty or unusable fixture fails here;
// nothing in this file changes when a backend is added.
#include <string>
#include <vector>

#include "conformance/store_conformance.hpp"
#include "store/backend.hpp"
#include "support/store_fixtures.hpp"

namespace runq::conformance {
namespace {

std::vector<StoreBackend> registered_backends() {
  std::vector<StoreBackend> out;
  for (const StoreBackendInfo& info : store_backends()) {
    std::string scheme(info.scheme);
    const ::runq::testing::StoreFixture* fixture = ::runq::testing::store_fixture(scheme);
    out.push_back({scheme, [scheme] { return ::runq::testing::fresh_store(scheme); },
                   fixture ? fixture->unavailable : nullptr});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, ::testing::ValuesIn(registered_backends()),
                         backend_name);

}  // namespace
}  // namespace runq::conformance
