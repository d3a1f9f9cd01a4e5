// Zone: an IANA time zone as runq's scheduler needs it — constant-offset segments of real
// time, and how a wall-clock (civil) time maps back to instants across DST changes.
// Wraps Howard Hinnant's date/tz so that nothing else includes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runq/status.hpp"
#include "scheduler/internal/cron_spec.hpp"

namespace date {
class time_zone;
}  // namespace date

namespace runq::internal {

// Instants in whole seconds since the Unix epoch.
using SysSeconds = std::int64_t;

// A span of real time [begin, end) during which the zone's UTC offset is constant.
struct ZoneSegment {
  SysSeconds begin = 0;
  SysSeconds end = 0;
  std::int64_t offset = 0;  // civil = instant + offset
};

// Where a civil time falls.
struct CivilMapping {
  enum class Kind { kUnique, kGap, kRepeated };
  Kind kind = Kind::kUnique;
  // kUnique: the instant. kGap: the instant the gap ends (the transition). kRepeated: the
  // first occurrence.
  SysSeconds first = 0;
  SysSeconds second = 0;  // kRepeated only: the second occurrence
};

// Copyable handle; the tz database entries it points to live for the whole process.
class Zone {
 public:
  Zone() = default;  // UTC
  // Errors: InvalidArgument "invalid time zone \"NAME\": ...".
  static Result<Zone> locate(std::string_view name);

  const std::string& name() const { return name_; }

  ZoneSegment segment_at(SysSeconds t) const;
  CivilMapping map_civil(CivilSeconds civil) const;
  // The largest civil time shown at or before `t`: during the second pass of a repeated
  // hour that is the last second before the clocks went back, not civil(t).
  CivilSeconds high_water_civil(SysSeconds t) const;

 private:
  std::string name_ = "UTC";
  const date::time_zone* tz_ = nullptr;  // nullptr: UTC, answered without the database
};

}  // namespace runq::internal
