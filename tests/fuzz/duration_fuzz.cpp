// Durations ("1h30m") and ISO 8601 times as the CLI and options accept them. Bad input is an
// InvalidArgument error; what parses prints back to text that parses to the same value.
#include "cli/cli_support.hpp"
#include "core/duration.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

// 10 years: parse_duration's documented ceiling.
constexpr runq::Millis kMaxDuration = 10LL * 366 * 86'400'000;
// 10000-01-01T00:00:00Z: format_time writes four-digit years below it.
constexpr runq::Millis kYear10000 = 253'402'300'800'000;

void check_duration(std::string_view text) {
  runq::Result<runq::Millis> d = runq::internal::parse_duration(text);
  if (!d.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_invalid_argument(d.status()));
    return;
  }
  RUNQ_FUZZ_CHECK(*d >= 0 && *d <= kMaxDuration);
  const std::string printed = runq::internal::format_duration(*d);
  // Whole seconds and sub-second values print exactly; others print rounded ("1.5s").
  if (*d < 1000 || *d % 1000 == 0) {
    runq::Result<runq::Millis> again = runq::internal::parse_duration(printed);
    RUNQ_FUZZ_CHECK(again.ok() && *again == *d);
  }
}

void check_time(std::string_view text) {
  runq::Result<runq::Millis> t = runq::internal::parse_iso_time(text);
  if (!t.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_invalid_argument(t.status()));
    return;
  }
  (void)runq::internal::describe_time(*t, 1'700'000'000'000);
  if (*t > 0 && *t < kYear10000) {
    runq::Result<runq::Millis> again =
        runq::internal::parse_iso_time(runq::internal::format_time(*t));
    RUNQ_FUZZ_CHECK(again.ok() && *again == *t);
  }
}

}  // namespace

RUNQ_FUZZ_TARGET(duration) {
  std::string_view text = runq::fuzz::as_text(data, size);
  check_duration(text);
  check_time(text);
  return 0;
}
