#include "scheduler/internal/zone.hpp"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace runq::internal {
namespace {

// Far enough out to mean "no transition", small enough that t + offset never overflows.
constexpr SysSeconds kFarPast = -(std::int64_t{1} << 52);
constexpr SysSeconds kFarFuture = std::int64_t{1} << 52;

date::sys_seconds to_sys(SysSeconds t) { return date::sys_seconds{std::chrono::seconds{t}}; }

SysSeconds clamp_instant(date::sys_seconds t) {
  return std::clamp<SysSeconds>(t.time_since_epoch().count(), kFarPast, kFarFuture);
}

}  // namespace

Result<Zone> Zone::locate(std::string_view name) {
  Zone zone;
  zone.name_ = std::string(name);
  // UTC is answered without the database: no file read, and the common case stays cheap.
  if (name == "UTC") return zone;
  try {
    zone.tz_ = date::locate_zone(name);
  } catch (const std::exception& e) {
    // date reports an unknown zone (or an unreadable database) by throwing runtime_error.
    return invalid_argument_error("invalid time zone \"" + std::string(name) +
                                  "\": not in the time zone database (" + e.what() + ")");
  }
  return zone;
}

ZoneSegment Zone::segment_at(SysSeconds t) const {
  if (tz_ == nullptr) return {kFarPast, kFarFuture, 0};
  date::sys_info info = tz_->get_info(to_sys(t));
  return {clamp_instant(info.begin), clamp_instant(info.end), info.offset.count()};
}

CivilMapping Zone::map_civil(CivilSeconds civil) const {
  if (tz_ == nullptr) return {CivilMapping::Kind::kUnique, civil, civil};
  date::local_info info = tz_->get_info(date::local_seconds{std::chrono::seconds{civil}});
  switch (info.result) {
    // date reports a gap with `first` = the offset before it, whose `end` is the transition.
    case date::local_info::nonexistent:
      return {CivilMapping::Kind::kGap, clamp_instant(info.first.end), 0};
    case date::local_info::ambiguous:
      return {CivilMapping::Kind::kRepeated, civil - info.first.offset.count(),
              civil - info.second.offset.count()};
    default:
      return {CivilMapping::Kind::kUnique, civil - info.first.offset.count(), 0};
  }
}

CivilSeconds Zone::high_water_civil(SysSeconds t) const {
  ZoneSegment seg = segment_at(t);
  CivilSeconds civil = t + seg.offset;
  if (seg.begin <= kFarPast) return civil;
  ZoneSegment before = segment_at(seg.begin - 1);
  // Only a backward change (offset shrinks) leaves the wall clock below where it has been.
  if (before.offset <= seg.offset) return civil;
  return std::max(civil, seg.begin - 1 + before.offset);
}

}  // namespace runq::internal
