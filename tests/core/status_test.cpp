#include "runq/status.hpp"

#include <gtest/gtest.h>

namespace runq {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument_error("parsing: not positive");
  return v;
}

Status use_macros(int v, int* out) {
  RUNQ_ASSIGN_OR_RETURN(int x, parse_positive(v));
  *out = x;
  RUNQ_RETURN_IF_ERROR(ok_status());
  return ok_status();
}

TEST(Status, DefaultIsOk) { EXPECT_TRUE(Status().ok()); }

TEST(Status, CarriesCodeAndMessage) {
  Status s = not_found_error("reading task 'x': no such task");

  EXPECT_TRUE(is_not_found(s));
  EXPECT_EQ(s.to_string(), "NOT_FOUND: reading task 'x': no such task");
  EXPECT_EQ(s.with_context("result").message(), "result: reading task 'x': no such task");
}

TEST(Status, TooLargeIsItsOwnCodeApartFromResourceExhausted) {
  Status big = too_large_error("enqueueing task 'x': message is 2000 bytes");
  Status full = resource_exhausted_error("enqueueing tasks: queue 'q' is full (1 tasks)");

  EXPECT_TRUE(is_too_large(big));
  EXPECT_FALSE(is_resource_exhausted(big));
  EXPECT_FALSE(is_too_large(full));
  EXPECT_EQ(big.to_string(), "TOO_LARGE: enqueueing task 'x': message is 2000 bytes");
}

TEST(Status, MacrosPropagateErrors) {
  int out = 0;

  EXPECT_TRUE(is_invalid_argument(use_macros(-1, &out)));
  EXPECT_TRUE(use_macros(7, &out).ok());
  EXPECT_EQ(out, 7);
}

}  // namespace
}  // namespace runq
