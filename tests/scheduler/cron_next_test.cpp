// Next fire times in UTC: fields, steps, names, the day-of-month/day-of-week OR rule, the
// seconds field, macros, leap years, rollovers, and every().
#include <gtest/gtest.h>

#include <chrono>

#include "runq/schedule.hpp"
#include "scheduler/schedule_test_util.hpp"

namespace runq {
namespace {

using testing::next_n;
using testing::utc;
using V = std::vector<std::string>;

V next_utc(std::string_view expr, std::string_view from, int n) {
  return next_n(cron(expr), utc(from), n);
}

TEST(CronNext, EveryMinuteIsStrictlyAfter) {
  EXPECT_EQ(next_utc("* * * * *", "2024-05-01T10:00:00", 2),
            (V{"2024-05-01T10:01:00+00:00", "2024-05-01T10:02:00+00:00"}));
  EXPECT_EQ(next_utc("* * * * *", "2024-05-01T10:00:59.999", 1), (V{"2024-05-01T10:01:00+00:00"}));
  EXPECT_EQ(next_utc("* * * * *", "2024-05-01T09:59:59.999", 1), (V{"2024-05-01T10:00:00+00:00"}));
}

TEST(CronNext, StepsAndRanges) {
  EXPECT_EQ(next_utc("*/15 * * * *", "2024-05-01T10:07:00", 4),
            (V{"2024-05-01T10:15:00+00:00", "2024-05-01T10:30:00+00:00",
               "2024-05-01T10:45:00+00:00", "2024-05-01T11:00:00+00:00"}));
  EXPECT_EQ(next_utc("5/20 * * * *", "2024-05-01T10:00:00", 4),
            (V{"2024-05-01T10:05:00+00:00", "2024-05-01T10:25:00+00:00",
               "2024-05-01T10:45:00+00:00", "2024-05-01T11:05:00+00:00"}));
  EXPECT_EQ(next_utc("10-40/15 8-9 * * *", "2024-05-01T08:40:00", 4),
            (V{"2024-05-01T09:10:00+00:00", "2024-05-01T09:25:00+00:00",
               "2024-05-01T09:40:00+00:00", "2024-05-02T08:10:00+00:00"}));
  EXPECT_EQ(next_utc("0 0,12 * * *", "2024-05-01T12:00:00", 2),
            (V{"2024-05-02T00:00:00+00:00", "2024-05-02T12:00:00+00:00"}));
  EXPECT_EQ(next_utc("*/100 * * * *", "2024-05-01T10:00:00", 1), (V{"2024-05-01T11:00:00+00:00"}));
}

TEST(CronNext, NamesAreCaseInsensitive) {
  // 2024-05-01 is a Wednesday.
  EXPECT_EQ(next_utc("0 9 * * mon-FRI", "2024-05-03T10:00:00", 2),
            (V{"2024-05-06T09:00:00+00:00", "2024-05-07T09:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 1 jan,Jul *", "2024-05-01T00:00:00", 2),
            (V{"2024-07-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"}));
  EXPECT_EQ(
      next_utc("0 0 * * SAT-SUN", "2024-05-01T00:00:00", 3),
      (V{"2024-05-04T00:00:00+00:00", "2024-05-05T00:00:00+00:00", "2024-05-11T00:00:00+00:00"}));
}

TEST(CronNext, ZeroAndSevenAreSunday) {
  V sundays{"2024-05-05T00:00:00+00:00", "2024-05-12T00:00:00+00:00"};
  EXPECT_EQ(next_utc("0 0 * * 0", "2024-05-01T00:00:00", 2), sundays);
  EXPECT_EQ(next_utc("0 0 * * 7", "2024-05-01T00:00:00", 2), sundays);
  EXPECT_EQ(next_utc("0 0 * * SUN", "2024-05-01T00:00:00", 2), sundays);
  EXPECT_EQ(next_utc("0 0 * * 6-7", "2024-05-01T00:00:00", 2),
            (V{"2024-05-04T00:00:00+00:00", "2024-05-05T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 * * FRI-SUN", "2024-05-01T00:00:00", 4),
            (V{"2024-05-03T00:00:00+00:00", "2024-05-04T00:00:00+00:00",
               "2024-05-05T00:00:00+00:00", "2024-05-10T00:00:00+00:00"}));
}

TEST(CronNext, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 13th, or any Friday: 2024-09-06 is a Friday, 2024-09-13 both.
  EXPECT_EQ(next_utc("0 0 13 * FRI", "2024-09-01T00:00:00", 4),
            (V{"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00",
               "2024-09-20T00:00:00+00:00", "2024-09-27T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 1,15 * MON", "2024-05-01T00:00:00", 4),
            (V{"2024-05-06T00:00:00+00:00", "2024-05-13T00:00:00+00:00",
               "2024-05-15T00:00:00+00:00", "2024-05-20T00:00:00+00:00"}));
  // A full range is still "restricted" (it does not start with '*'): OR, every day.
  EXPECT_EQ(next_utc("0 0 1-31 * MON", "2024-05-01T00:00:00", 2),
            (V{"2024-05-02T00:00:00+00:00", "2024-05-03T00:00:00+00:00"}));
}

TEST(CronNext, DayFieldsAndWhenOneStartsWithStar) {
  // "*/2" starts with '*': AND. Odd days that are Mondays; May 2024 Mondays: 6 13 20 27.
  EXPECT_EQ(next_utc("0 0 */2 * MON", "2024-05-01T00:00:00", 2),
            (V{"2024-05-13T00:00:00+00:00", "2024-05-27T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 1 * */7", "2024-05-01T00:00:00", 2),
            (V{"2024-09-01T00:00:00+00:00", "2024-12-01T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 * * MON", "2024-05-01T00:00:00", 1), (V{"2024-05-06T00:00:00+00:00"}));
}

TEST(CronNext, SecondsField) {
  EXPECT_EQ(
      next_utc("*/20 * * * * *", "2024-05-01T10:00:00", 3),
      (V{"2024-05-01T10:00:20+00:00", "2024-05-01T10:00:40+00:00", "2024-05-01T10:01:00+00:00"}));
  EXPECT_EQ(next_utc("30 0 12 * * *", "2024-05-01T12:00:30", 1), (V{"2024-05-02T12:00:30+00:00"}));
  EXPECT_EQ(next_utc("* * * * * *", "2024-05-01T10:00:00.500", 2),
            (V{"2024-05-01T10:00:01+00:00", "2024-05-01T10:00:02+00:00"}));
  EXPECT_EQ(next_utc("59 59 23 31 12 *", "2024-05-01T00:00:00", 1),
            (V{"2024-12-31T23:59:59+00:00"}));
}

TEST(CronNext, Macros) {
  const char* from = "2024-05-15T10:30:00";
  EXPECT_EQ(next_utc("@hourly", from, 1), (V{"2024-05-15T11:00:00+00:00"}));
  EXPECT_EQ(next_utc("@daily", from, 1), (V{"2024-05-16T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("@midnight", from, 1), (V{"2024-05-16T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("@weekly", from, 1), (V{"2024-05-19T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("@monthly", from, 1), (V{"2024-06-01T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("@yearly", from, 1), (V{"2025-01-01T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("@annually", from, 1), (V{"2025-01-01T00:00:00+00:00"}));
}

TEST(CronNext, LeapYears) {
  EXPECT_EQ(
      next_utc("0 0 29 2 *", "2024-03-01T00:00:00", 3),
      (V{"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"}));
  // 2100 is not a leap year; 2000 was.
  EXPECT_EQ(next_utc("0 0 29 2 *", "2096-03-01T00:00:00", 1), (V{"2104-02-29T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 29 2 *", "1999-01-01T00:00:00", 1), (V{"2000-02-29T00:00:00+00:00"}));
}

TEST(CronNext, MonthAndYearRollover) {
  EXPECT_EQ(
      next_utc("0 0 31 * *", "2024-04-01T00:00:00", 3),
      (V{"2024-05-31T00:00:00+00:00", "2024-07-31T00:00:00+00:00", "2024-08-31T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("59 23 31 12 *", "2024-12-31T23:59:00", 1), (V{"2025-12-31T23:59:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 1 1 *", "2024-12-31T23:59:59.999", 1), (V{"2025-01-01T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("*/30 * * * *", "2024-12-31T23:45:00", 2),
            (V{"2025-01-01T00:00:00+00:00", "2025-01-01T00:30:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 30 * *", "2024-01-30T00:00:00", 2),
            (V{"2024-03-30T00:00:00+00:00", "2024-04-30T00:00:00+00:00"}));
}

TEST(CronNext, RareMatchesStayFast) {
  // The 1st, 14th or 27th of February when it is a Friday ("*/13" starts with '*': AND).
  auto t0 = std::chrono::steady_clock::now();
  V got = next_utc("0 0 */13 2 FRI", "2024-01-01T00:00:00", 3);
  EXPECT_EQ(got, (V{"2025-02-14T00:00:00+00:00", "2026-02-27T00:00:00+00:00",
                    "2030-02-01T00:00:00+00:00"}));
  for (int i = 0; i < 1000; ++i) (void)cron("0 0 29 2 MON").next_after(utc("2024-03-01T00:00:00"));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 2000);
}

TEST(CronNext, SupportedRange) {
  EXPECT_EQ(cron("* * * * *").next_after(utc("9000-01-01T00:00:00")), kNever);
  EXPECT_EQ(next_utc("0 0 1 1 *", "1969-06-01T00:00:00", 1), (V{"1970-01-01T00:00:00+00:00"}));
  EXPECT_EQ(next_utc("0 0 1 1 *", "1900-06-01T00:00:00", 1), (V{"1901-01-01T00:00:00+00:00"}));
}

TEST(Every, AnchoredAtTheEpoch) {
  Schedule s = every(std::chrono::minutes(10));
  EXPECT_EQ(next_n(s, utc("2024-05-01T10:03:17"), 2),
            (V{"2024-05-01T10:10:00+00:00", "2024-05-01T10:20:00+00:00"}));
  EXPECT_EQ(s.next_after(utc("2024-05-01T10:10:00")), utc("2024-05-01T10:20:00"));
  Schedule odd = every(std::chrono::milliseconds(1500));
  EXPECT_EQ(odd.next_after(0), 1500);
  EXPECT_EQ(odd.next_after(1499), 1500);
  EXPECT_EQ(odd.next_after(1500), 3000);
  EXPECT_EQ(odd.next_after(-1), 0);
  EXPECT_EQ(odd.next_after(-1500), 0);
  EXPECT_EQ(odd.next_after(-1501), -1500);
  EXPECT_EQ(odd.format_time(1500), "1970-01-01T00:00:01.500+00:00");
}

TEST(Every, ZoneOnlyChangesDisplay) {
  Schedule s = every(std::chrono::hours(1)).in_zone("Asia/Kolkata");
  Millis t = s.next_after(utc("2024-05-01T10:20:00"));
  EXPECT_EQ(t, utc("2024-05-01T11:00:00"));
  EXPECT_EQ(s.format_time(t), "2024-05-01T16:30:00+05:30");
}

}  // namespace
}  // namespace runq
