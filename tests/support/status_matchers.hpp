// GoogleTest matchers and assertions for runq::Status and runq::Result<T>.
//
//   EXPECT_THAT(store.remove_worker("x"), StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(store.enqueue(tasks, now), IsOk());
//   RUNQ_ASSERT_OK_AND_ASSIGN(TaskInfo info, store.get_task("a", now));
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "runq/status.hpp"

namespace runq {

// Readable failure messages: "NOT_FOUND: no task 'a'" instead of the bytes of the object.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << status_code_name(code); }
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.to_string(); }
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "OK: " << ::testing::PrintToString(r.value());
  } else {
    *os << r.status().to_string();
  }
}

}  // namespace runq

namespace runq::testing {
namespace internal {

inline const Status& status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

}  // namespace internal

// Matches a Status or Result<T> whose code is `code`; prints the actual status on mismatch.
MATCHER_P(StatusIs, code,
          std::string(negation ? "does not have" : "has") + " status code " +
              std::string(::runq::status_code_name(code))) {
  const ::runq::Status s = ::runq::testing::internal::status_of(arg);
  *result_listener << "whose status is " << s.to_string();
  return s.code() == code;
}

// Matches an OK Status or a Result<T> holding a value.
MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const ::runq::Status s = ::runq::testing::internal::status_of(arg);
  *result_listener << "whose status is " << s.to_string();
  return s.ok();
}

}  // namespace runq::testing

#define RUNQ_EXPECT_OK(expr) EXPECT_THAT((expr), ::runq::testing::IsOk())
#define RUNQ_ASSERT_OK(expr) ASSERT_THAT((expr), ::runq::testing::IsOk())

// `RUNQ_ASSERT_OK_AND_ASSIGN(auto x, f());` declares x from a Result, or fails the test (and
// returns from it) with the error.
#define RUNQ_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  RUNQ_ASSERT_OK_AND_ASSIGN_IMPL_(RUNQ_CONCAT_(runq_assert_result_, __LINE__), lhs, expr)
#define RUNQ_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)               \
  auto tmp = (expr);                                                  \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().to_string(); \
  lhs = std::move(tmp).value()
