// Cron schedules in time zones, across both daylight-saving changes.
//   Europe/Paris 2024:     spring forward 03-31 02:00 CET -> 03:00 CEST (01:00Z);
//                          fall back      10-27 03:00 CEST -> 02:00 CET (01:00Z).
//   America/New_York 2024: spring forward 03-10 02:00 EST -> 03:00 EDT (07:00Z);
//                          fall back      11-03 02:00 EDT -> 01:00 EST (06:00Z).
#include <gtest/gtest.h>

#include "runq/schedule.hpp"
#include "scheduler/schedule_test_util.hpp"

namespace runq {
namespace {

using testing::next_n;
using testing::utc;
using V = std::vector<std::string>;

V next_in(std::string_view expr, std::string_view tz, std::string_view from_utc, int n) {
  return next_n(cron(expr, tz), utc(from_utc), n);
}

int fires_between(const Schedule& s, Millis from, Millis to) {
  int n = 0;
  for (Millis t = s.next_after(from); t <= to; t = s.next_after(t)) ++n;
  return n;
}

TEST(Zone, FixedTimeInTheSpringGapFiresOnceWhenTheGapEnds) {
  EXPECT_EQ(
      next_in("30 2 * * *", "Europe/Paris", "2024-03-29T12:00:00", 3),
      (V{"2024-03-30T02:30:00+01:00", "2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"}));
  EXPECT_EQ(
      next_in("30 2 * * *", "America/New_York", "2024-03-08T12:00:00", 3),
      (V{"2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}));
}

TEST(Zone, SeveralGapTimesAndTheGapEndCollapseIntoOneFire) {
  EXPECT_EQ(
      next_in("0,30 2,3 * * *", "Europe/Paris", "2024-03-30T23:00:00", 3),
      (V{"2024-03-31T03:00:00+02:00", "2024-03-31T03:30:00+02:00", "2024-04-01T02:00:00+02:00"}));
}

TEST(Zone, FixedTimeInTheRepeatedHourFiresOnceAtTheFirstOccurrence) {
  EXPECT_EQ(next_in("30 2 * * *", "Europe/Paris", "2024-10-26T12:00:00", 2),
            (V{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}));
  EXPECT_EQ(next_in("30 1 * * *", "America/New_York", "2024-11-02T12:00:00", 2),
            (V{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}));
  // Asked during the second pass (01:10 EST), before or after the local time shows 01:30 again.
  Schedule ny = cron("30 1 * * *", "America/New_York");
  EXPECT_EQ(ny.format_time(ny.next_after(utc("2024-11-03T06:10:00"))), "2024-11-04T01:30:00-05:00");
  EXPECT_EQ(ny.format_time(ny.next_after(utc("2024-11-03T06:45:00"))), "2024-11-04T01:30:00-05:00");
  // Asked during the first pass after the fire: not again in the second pass.
  EXPECT_EQ(ny.format_time(ny.next_after(utc("2024-11-03T05:40:00"))), "2024-11-04T01:30:00-05:00");
}

TEST(Zone, WildcardKeepsRealIntervalsThroughTheSpringGap) {
  EXPECT_EQ(
      next_in("*/15 * * * *", "Europe/Paris", "2024-03-31T00:30:00", 3),
      (V{"2024-03-31T01:45:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:15:00+02:00"}));
  // Hourly at :10 skips the nonexistent 02:10 and stays an hour apart in real time.
  EXPECT_EQ(next_in("10 * * * *", "Europe/Paris", "2024-03-31T00:00:00", 2),
            (V{"2024-03-31T01:10:00+01:00", "2024-03-31T03:10:00+02:00"}));
  EXPECT_EQ(next_in("10 * * * *", "Europe/Paris", "2024-03-31T00:00:00", 2)[1],
            cron("10 * * * *", "Europe/Paris").format_time(utc("2024-03-31T01:10:00")));
}

TEST(Zone, WildcardFiresOnBothPassesOfTheRepeatedHour) {
  EXPECT_EQ(next_in("*/30 * * * *", "Europe/Paris", "2024-10-27T00:00:00", 4),
            (V{"2024-10-27T02:30:00+02:00", "2024-10-27T02:00:00+01:00",
               "2024-10-27T02:30:00+01:00", "2024-10-27T03:00:00+01:00"}));
  EXPECT_EQ(
      next_in("*/15 * * * *", "America/New_York", "2024-11-03T05:40:00", 6),
      (V{"2024-11-03T01:45:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T01:15:00-05:00",
         "2024-11-03T01:30:00-05:00", "2024-11-03T01:45:00-05:00", "2024-11-03T02:00:00-05:00"}));
}

TEST(Zone, WildcardWithAFixedHourSkipsTheGapAndRepeats) {
  // Vixie cron's rule: a '*' minute makes the job a wildcard job.
  EXPECT_EQ(next_in("*/30 2 * * *", "Europe/Paris", "2024-03-30T12:00:00", 1),
            (V{"2024-04-01T02:00:00+02:00"}));
  EXPECT_EQ(
      next_in("*/30 2 * * *", "Europe/Paris", "2024-10-26T12:00:00", 5),
      (V{"2024-10-27T02:00:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-27T02:00:00+01:00",
         "2024-10-27T02:30:00+01:00", "2024-10-28T02:00:00+01:00"}));
}

TEST(Zone, FireCountsOverTheChangeDays) {
  Schedule half_hourly = cron("*/30 * * * *", "America/New_York");
  Schedule daily = cron("30 1 * * *", "America/New_York");
  Schedule gap_daily = cron("30 2 * * *", "America/New_York");
  // Local midnight to midnight: 23 real hours in spring, 25 in autumn.
  Millis spring_from = utc("2024-03-10T05:00:00") - 1, spring_to = utc("2024-03-11T04:00:00") - 1;
  Millis fall_from = utc("2024-11-03T04:00:00") - 1, fall_to = utc("2024-11-04T05:00:00") - 1;
  EXPECT_EQ(fires_between(half_hourly, spring_from, spring_to), 46);
  EXPECT_EQ(fires_between(half_hourly, fall_from, fall_to), 50);
  EXPECT_EQ(fires_between(daily, spring_from, spring_to), 1);
  EXPECT_EQ(fires_between(daily, fall_from, fall_to), 1);
  EXPECT_EQ(fires_between(gap_daily, spring_from, spring_to), 1);
  EXPECT_EQ(fires_between(gap_daily, fall_from, fall_to), 1);
}

TEST(Zone, DailyLocalTimeMovesInUtcAcrossChanges) {
  EXPECT_EQ(next_in("0 8 * * *", "Europe/Paris", "2024-03-30T00:00:00", 2),
            (V{"2024-03-30T08:00:00+01:00", "2024-03-31T08:00:00+02:00"}));
  Schedule s = cron("0 8 * * *", "Europe/Paris");
  EXPECT_EQ(s.next_after(utc("2024-03-30T00:00:00")), utc("2024-03-30T07:00:00"));
  EXPECT_EQ(s.next_after(utc("2024-03-31T00:00:00")), utc("2024-03-31T06:00:00"));
}

TEST(Zone, SecondsFieldInTheRepeatedHour) {
  // Fixed minute and hour: the burst of seconds runs on the first pass only.
  EXPECT_EQ(
      next_in("*/20 30 1 * * *", "America/New_York", "2024-11-03T05:30:30", 3),
      (V{"2024-11-03T01:30:40-04:00", "2024-11-04T01:30:00-05:00", "2024-11-04T01:30:20-05:00"}));
}

TEST(Zone, OddOffsetsAndSouthernHemisphere) {
  EXPECT_EQ(next_in("0 0 * * *", "Asia/Kathmandu", "2024-05-01T00:00:00", 1),
            (V{"2024-05-02T00:00:00+05:45"}));
  // Sydney springs forward on 2024-10-06 02:00 -> 03:00 (+10 -> +11).
  EXPECT_EQ(next_in("30 2 * * *", "Australia/Sydney", "2024-10-05T00:00:00", 2),
            (V{"2024-10-06T03:00:00+11:00", "2024-10-07T02:30:00+11:00"}));
  // Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2024-10-06.
  EXPECT_EQ(next_in("15 2 * * *", "Australia/Lord_Howe", "2024-10-05T00:00:00", 1),
            (V{"2024-10-06T02:30:00+11:00"}));
}

TEST(Zone, InZoneKeepsTheExpression) {
  Schedule utc_daily = cron("0 9 * * *");
  Schedule paris = utc_daily.in_zone("Europe/Paris");
  EXPECT_EQ(paris.expression(), "0 9 * * *");
  EXPECT_EQ(paris.zone(), "Europe/Paris");
  EXPECT_EQ(paris.next_after(utc("2024-07-01T00:00:00")), utc("2024-07-01T07:00:00"));
  EXPECT_EQ(utc_daily.next_after(utc("2024-07-01T00:00:00")), utc("2024-07-01T09:00:00"));
}

}  // namespace
}  // namespace runq
