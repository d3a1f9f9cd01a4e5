// Cron parsing: accepted syntax, and error messages that point at the bad field.
#include <gtest/gtest.h>

#include <chrono>

#include "runq/error.hpp"
#include "runq/schedule.hpp"

namespace runq {
namespace {

std::string error_of(std::string_view expr, std::string_view tz = "UTC") {
  Result<Schedule> s = parse_cron(expr, tz);
  EXPECT_FALSE(s.ok()) << expr << " was accepted";
  EXPECT_TRUE(is_invalid_argument(s.status()));
  return s.status().message();
}

TEST(CronParse, ErrorNamesTheBadField) {
  EXPECT_EQ(error_of("*/0 * * * *"),
            "invalid cron expression \"*/0 * * * *\": minute field \"*/0\": step must be >= 1");
  EXPECT_EQ(error_of("0 24 * * *"),
            "invalid cron expression \"0 24 * * *\": hour field \"24\": value 24 out of range "
            "0-23");
  EXPECT_EQ(error_of("0 0 0 * *"),
            "invalid cron expression \"0 0 0 * *\": day-of-month field \"0\": value 0 out of "
            "range 1-31");
  EXPECT_EQ(error_of("0 0 * 13 *"),
            "invalid cron expression \"0 0 * 13 *\": month field \"13\": value 13 out of range "
            "1-12 or JAN-DEC");
  EXPECT_EQ(error_of("0 0 * * 8"),
            "invalid cron expression \"0 0 * * 8\": day-of-week field \"8\": value 8 out of "
            "range 0-7 or SUN-SAT");
  EXPECT_EQ(error_of("60 * * * * *"),
            "invalid cron expression \"60 * * * * *\": second field \"60\": value 60 out of "
            "range 0-59");
}

TEST(CronParse, ErrorReasons) {
  EXPECT_NE(error_of("0 0 * FOO *").find("month field \"FOO\": unknown value \"FOO\""),
            std::string::npos);
  EXPECT_NE(error_of("0 0 * * MONDAY").find("day-of-week field \"MONDAY\": unknown value"),
            std::string::npos);
  EXPECT_NE(error_of("5-1 * * * *").find("minute field \"5-1\": range 5-1 runs backwards"),
            std::string::npos);
  EXPECT_NE(error_of("1,,2 * * * *").find("minute field \"1,,2\": empty list element"),
            std::string::npos);
  EXPECT_NE(error_of("*/x * * * *").find("step \"x\" is not a number"), std::string::npos);
  EXPECT_NE(error_of("*/ * * * *").find("missing step after '/'"), std::string::npos);
  EXPECT_NE(error_of("-5 * * * *").find("minute field \"-5\": missing value"), std::string::npos);
  EXPECT_NE(error_of("0 0 ? * *").find("day-of-month field \"?\""), std::string::npos);
  EXPECT_NE(error_of("99999 * * * *").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("*/99999 * * * *").find("too large"), std::string::npos);
}

TEST(CronParse, FieldCountAndMacros) {
  EXPECT_EQ(error_of("* * * *"),
            "invalid cron expression \"* * * *\": expected 5 fields (minute hour day-of-month "
            "month day-of-week) or 6 (with a leading second), got 4");
  EXPECT_NE(error_of("* * * * * * *").find("got 7"), std::string::npos);
  EXPECT_NE(error_of("").find("empty expression"), std::string::npos);
  EXPECT_NE(error_of("   ").find("empty expression"), std::string::npos);
  EXPECT_NE(error_of("@reboot").find("unknown macro @reboot"), std::string::npos);
  for (const char* m : {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly",
                        "@annually", "@DAILY", "  @hourly  "}) {
    EXPECT_TRUE(parse_cron(m).ok()) << m;
  }
}

TEST(CronParse, NeverFiringExpressionsAreRejected) {
  EXPECT_EQ(error_of("0 0 30 2 *"),
            "invalid cron expression \"0 0 30 2 *\": day-of-month field \"30\": never matches "
            "in month field \"2\"");
  EXPECT_NE(error_of("0 0 31 4,6,9,11 *").find("never matches"), std::string::npos);
  EXPECT_NE(error_of("0 0 0 31 FEB *").find("never matches"), std::string::npos);
  // Possible dates are fine, however rare: Feb 29, and the OR rule with a weekday.
  EXPECT_TRUE(parse_cron("0 0 29 2 *").ok());
  EXPECT_TRUE(parse_cron("0 0 30 2 MON").ok());
  EXPECT_TRUE(parse_cron("0 0 30,31 2,4 *").ok());
}

TEST(CronParse, AcceptedSyntax) {
  for (const char* e : {"* * * * *",
                        "*/15 * * * *",
                        "0 9-17 * * MON-FRI",
                        "0 0 1,15 * *",
                        "5/15 * * * *",
                        "10-50/20 * * * *",
                        "0 0 * JAN,jul *",
                        "0 0 * * sun",
                        "0 0 * * 7",
                        "0 0 * * FRI-SUN",
                        "0 0 * * 5-0",
                        "0 0 * * 5-7",
                        "*/10 * * * * *",
                        "0 0 0 1 1 *",
                        "0\t0  *  * *",
                        "*/100 * * * *",
                        "0-59 0-23 1-31 1-12 0-7",
                        "@every 10m",
                        "@every 1h30m",
                        "@EVERY 500ms"}) {
    Result<Schedule> s = parse_cron(e);
    EXPECT_TRUE(s.ok()) << e << ": " << s.status().message();
  }
}

TEST(CronParse, EveryExpressionErrors) {
  EXPECT_NE(error_of("@every").find("@every needs a duration"), std::string::npos);
  EXPECT_NE(error_of("@every 0s").find("must be > 0"), std::string::npos);
  EXPECT_NE(error_of("@every ten").find("invalid duration"), std::string::npos);
  EXPECT_NE(error_of("@every 9999999999999d").find("too large"), std::string::npos);
}

TEST(CronParse, UnknownZone) {
  EXPECT_NE(error_of("0 0 * * *", "Europe/Pariss").find("invalid time zone \"Europe/Pariss\""),
            std::string::npos);
  EXPECT_THROW(cron("0 0 * * *").in_zone("Mars/Olympus"), InvalidSchedule);
  EXPECT_NO_THROW(cron("0 0 * * *").in_zone("Europe/Paris"));
}

TEST(CronParse, ThrowingHelpersThrowInvalidSchedule) {
  try {
    cron("*/0 * * * *");
    FAIL() << "no exception";
  } catch (const InvalidSchedule& e) {
    EXPECT_NE(std::string(e.what()).find("minute field \"*/0\""), std::string::npos);
    EXPECT_TRUE(is_invalid_argument(e.status()));
  }
  EXPECT_THROW(every(std::chrono::milliseconds(0)), InvalidSchedule);
  EXPECT_THROW(every(std::chrono::milliseconds(-5)), InvalidSchedule);
  EXPECT_NO_THROW(every(std::chrono::minutes(10)));
}

TEST(CronParse, AccessorsAndRoundTrip) {
  Schedule s = cron("  */15 * * * *  ", "Europe/Paris");
  EXPECT_EQ(s.expression(), "*/15 * * * *");
  EXPECT_EQ(s.zone(), "Europe/Paris");
  EXPECT_FALSE(s.is_interval());
  EXPECT_EQ(s.describe(), "cron \"*/15 * * * *\" in Europe/Paris (wildcard)");
  EXPECT_EQ(cron("@daily").describe(), "cron \"@daily\" = \"0 0 * * *\" in UTC (fixed time)");

  Schedule e = every(std::chrono::minutes(90) + std::chrono::milliseconds(5));
  EXPECT_EQ(e.expression(), "@every 1h30m5ms");
  EXPECT_TRUE(e.is_interval());
  EXPECT_EQ(e.describe(), "every 1h30m5ms (UTC)");

  for (const Schedule& x : {s, e, cron("@weekly", "America/New_York"),
                            every(std::chrono::hours(48)).in_zone("Asia/Tokyo")}) {
    Result<Schedule> back = parse_cron(x.expression(), x.zone());
    ASSERT_TRUE(back.ok()) << x.expression();
    EXPECT_TRUE(*back == x) << x.expression();
  }
  EXPECT_FALSE(cron("0 * * * *") == cron("0 * * * *", "Europe/Paris"));
  EXPECT_TRUE(cron("@hourly") == cron("0 * * * *"));
}

TEST(CronParse, DefaultScheduleNeverFires) {
  Schedule s;
  EXPECT_EQ(s.next_after(0), kNever);
  EXPECT_EQ(s.describe(), "never");
  EXPECT_EQ(s.format_time(kNever), "never");
  EXPECT_EQ(s.in_zone("Europe/Paris").next_after(0), kNever);
}

TEST(CronParse, MisfireNames) {
  EXPECT_EQ(misfire_name(Misfire::kRunOnce), "run_once");
  EXPECT_EQ(misfire_name(Misfire::kSkip), "skip");
  EXPECT_EQ(misfire_name(Misfire::kRunAll), "run_all");
  EXPECT_EQ(parse_misfire("run-all"), Misfire::kRunAll);
  EXPECT_EQ(parse_misfire("SKIP"), Misfire::kSkip);
  EXPECT_EQ(parse_misfire("run_once"), Misfire::kRunOnce);
  EXPECT_EQ(parse_misfire("sometimes"), std::nullopt);
}

}  // namespace
}  // namespace runq
