// The cron parser: the input is an expression, optionally followed by a newline and a time
// zone name. Bad input is an InvalidArgument error; a schedule that parses gives itself back
// from its expression and zone, and its next fire times move strictly forward.
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "runq/schedule.hpp"

namespace {

// Start points for next_after: before the supported range, the epoch, now-ish, a DST-heavy
// year, and near the end of the supported range.
constexpr runq::Millis kStarts[] = {-62'135'596'800'000, 0, 1'700'000'000'500, 2'005'000'000'000,
                                    253'402'000'000'000};

void check_ticks(const runq::Schedule& s) {
  for (runq::Millis t : kStarts) {
    runq::Millis next = s.next_after(t);
    if (next == runq::kNever) continue;
    RUNQ_FUZZ_CHECK(next > t);
    if (!s.is_interval()) RUNQ_FUZZ_CHECK(next % 1000 == 0);
    runq::Millis after = s.next_after(next);
    RUNQ_FUZZ_CHECK(after == runq::kNever || after > next);
    (void)s.format_time(next);
  }
}

}  // namespace

RUNQ_FUZZ_TARGET(cron) {
  std::string_view text = runq::fuzz::as_text(data, size);
  std::string_view expr = text.substr(0, text.find('\n'));
  std::string_view zone = expr.size() < text.size() ? text.substr(expr.size() + 1) : "UTC";
  runq::Result<runq::Schedule> s = runq::parse_cron(expr, zone);
  if (!s.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_invalid_argument(s.status()));
    return 0;
  }
  runq::Result<runq::Schedule> again = runq::parse_cron(s->expression(), s->zone());
  RUNQ_FUZZ_CHECK(again.ok());
  RUNQ_FUZZ_CHECK(*again == *s);
  (void)s->describe();
  check_ticks(*s);
  return 0;
}
