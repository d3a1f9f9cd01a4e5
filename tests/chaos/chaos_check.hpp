// The end-of-run checks of a chaos run, from the independent record and from the store.
#pragma once

#include <string>
#include <vector>

#include "chaos/chaos_run.hpp"
#include "chaos/run_record.hpp"
#include "runq/store.hpp"

namespace runq::chaos {

// Tasks pending, scheduled, reserved or dead in every queue; -1 when the store does not answer.
std::int64_t queued_total(Store& store);

// Every accepted task ran (it is in `record`) and has a SUCCESS result in the store; counts
// report.lost, report.duplicates (extra runs of accepted tasks) and report.malformed_lines.
void check_tasks(Store& store, const std::vector<std::string>& accepted, const RunRecord& record,
                 ChaosReport& report);

// Every chord body in `bodies` ended SUCCESS with the result `members` (the count of member
// results it was given: it ran once all of them succeeded). Sets report.chords and
// report.chords_wrong.
void check_chords(Store& store, const std::vector<std::string>& bodies, int members,
                  ChaosReport& report);

// Every tick of the "tick" schedule (every second) from the first that ran to the
// schedule's last claimed tick has a task that ended SUCCESS, and the ticks' tasks ran only
// the extra times a fault explains (added to report.duplicates). Sets report.ticks and
// report.ticks_missing.
void check_ticks(Store& store, Millis beats_started, const RunRecord& ticks, ChaosReport& report);

}  // namespace runq::chaos
