// What every backend's list_tasks shares: the cursor format and the page builder that applies
// the filter and the examination budget to index entries, so that all stores page alike.
//
// A backend walks its index newest first, from just after the cursor, within the filter's
// enqueue-time range, and feeds each entry to a PageBuilder until it says stop or the index
// ends. The cursor is "<enqueued ms>:<id>" of the last entry fed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "runq/status.hpp"
#include "runq/store.hpp"

namespace runq::internal {

struct ListCursor {
  Millis enqueued = 0;
  std::string id;
  bool start = true;  // no cursor: begin with the newest entry
};

// "" -> start. Errors: InvalidArgument for anything list_tasks did not produce.
Result<ListCursor> parse_list_cursor(std::string_view text);
std::string make_list_cursor(Millis enqueued, std::string_view id);
// The exclusive upper bound of the walk: the cursor, else the filter's enqueued_before.
struct ListBound {
  Millis enqueued;  // entries with enqueued < this, or == this and id < `id`
  std::string id;   // "" with enqueued: only enqueued < this
};
ListBound list_upper_bound(const TaskFilter& filter, const ListCursor& cursor);

class PageBuilder {
 public:
  PageBuilder(const TaskFilter& filter, std::size_t limit)
      : filter_(filter), limit_(limit), budget_(list_tasks_budget(limit)) {}

  // One index entry, newest first. `task` is nullopt when the entry is stale (its task is
  // gone). Returns false when the page is complete: feed no more.
  bool add(Millis enqueued, std::string_view id, const std::optional<TaskSummary>& task);
  // The page; `index_ended` = there were no more entries in range after those fed.
  TaskPage finish(bool index_ended);

 private:
  const TaskFilter& filter_;
  std::size_t limit_;
  std::size_t budget_;
  std::size_t examined_ = 0;
  TaskPage page_;
  std::string last_;  // cursor of the last entry fed
};

// True when `task` passes every field of `filter`.
bool matches(const TaskFilter& filter, const TaskSummary& task);

}  // namespace runq::internal
