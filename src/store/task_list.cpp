#include "store/task_list.hpp"

#include <charconv>
#include <limits>

namespace runq::internal {

Result<ListCursor> parse_list_cursor(std::string_view text) {
  ListCursor c;
  if (text.empty()) return c;
  std::size_t colon = text.find(':');
  Millis t = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + std::min(colon, text.size()), t);
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      ec != std::errc() || end != text.data() + colon || t < 0) {
    return invalid_argument_error("listing tasks: cursor '" + std::string(text.substr(0, 80)) +
                                  "' is not one a task list returned");
  }
  c.enqueued = t;
  c.id = std::string(text.substr(colon + 1));
  c.start = false;
  return c;
}

std::string make_list_cursor(Millis enqueued, std::string_view id) {
  return std::to_string(enqueued) + ":" + std::string(id);
}

ListBound list_upper_bound(const TaskFilter& filter, const ListCursor& cursor) {
  Millis before =
      filter.enqueued_before > 0 ? filter.enqueued_before : std::numeric_limits<Millis>::max();
  if (cursor.start || cursor.enqueued >= before) return {before, ""};
  return {cursor.enqueued, cursor.id};
}

bool matches(const TaskFilter& f, const TaskSummary& t) {
  return (f.queue.empty() || f.queue == t.queue) && (f.task.empty() || f.task == t.task) &&
         (!f.state || *f.state == t.state) && t.enqueued >= f.enqueued_from &&
         (f.enqueued_before == 0 || t.enqueued < f.enqueued_before);
}

bool PageBuilder::add(Millis enqueued, std::string_view id,
                      const std::optional<TaskSummary>& task) {
  ++examined_;
  last_ = make_list_cursor(enqueued, id);
  if (task && matches(filter_, *task)) page_.tasks.push_back(*task);
  return page_.tasks.size() < limit_ && examined_ < budget_;
}

TaskPage PageBuilder::finish(bool index_ended) {
  if (!index_ended) page_.next_cursor = last_;
  return std::move(page_);
}

}  // namespace runq::internal
