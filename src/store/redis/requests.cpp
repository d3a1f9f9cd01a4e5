#include "store/redis/requests.hpp"

#include <algorithm>
#include <unordered_set>

#include "store/redis/replies.hpp"

namespace runq::internal {
namespace {

// The packed record of a new task (format: common.lua).
std::string new_record(const NewTask& t, bool ready) {
  constexpr char kSep = '\x1f';
  std::string r = ready ? "pending" : "scheduled";
  r.reserve(r.size() + t.queue.size() + 48);
  r += kSep;
  r += '0';           // deliveries
  r.append(3, kSep);  // no token or lease yet
  r += std::to_string(t.priority);
  r += kSep;
  r += std::to_string(t.max_deliveries);
  r += kSep;
  if (!ready) r += std::to_string(t.eta);
  r.append(2, kSep);  // no progress yet
  r += std::to_string(t.queue.size());
  r += kSep;
  r += t.queue;
  return r;
}

// Tasks that go to the same ready list, or the same scheduled set.
struct Group {
  bool ready = true;
  std::string_view queue;
  int priority = 0;
  Millis earliest = 0;  // scheduled: the smallest eta
  std::vector<const NewTask*> tasks;
};

std::vector<Group> group_tasks(std::span<const NewTask* const> tasks, Millis now) {
  std::vector<Group> groups;
  for (const NewTask* t : tasks) {
    bool ready = t->eta <= now;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.ready == ready && g.queue == t->queue && (!ready || g.priority == t->priority);
    });
    if (it == groups.end()) {
      it = groups.insert(groups.end(), Group{ready, t->queue, t->priority, t->eta, {}});
    }
    it->earliest = std::min(it->earliest, t->eta);
    it->tasks.push_back(t);
  }
  return groups;
}

}  // namespace

std::string limits_arg(const TaskLimits& l) {
  return l.rate_key + '\x1f' + std::to_string(l.rate_count) + '\x1f' +
         std::to_string(l.rate_period_ms) + '\x1f' + l.concurrency_key + '\x1f' +
         std::to_string(l.max_concurrency);
}

void add_task_args(RedisArgs& args, const NewTask& t) {
  args.add(t.id).add(t.queue).add_int(t.priority).add_int(t.eta).add_int(t.max_deliveries);
  args.add(t.body).add(t.task);
}

std::vector<const NewTask*> distinct_ids(std::span<const NewTask> tasks) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(tasks.size());
  std::vector<const NewTask*> out;
  out.reserve(tasks.size());
  for (const NewTask& t : tasks) {
    if (seen.insert(t.id).second) out.push_back(&t);
  }
  return out;
}

void add_linked_task_args(RedisArgs& args, const NewTask& t) {
  add_task_args(args, t);
  std::string deps;
  for (const std::string& d : t.links.depends_on) {
    if (!deps.empty()) deps += '\x1f';
    deps += d;
  }
  args.add_copy(std::move(deps)).add(t.links.allow_dependency_failure ? "1" : "0");
  args.add(t.links.canceled);
}

void end_workflow_section(RedisArgs& args, int at) { args.add("\x1fwf").add_int(at); }

void add_enqueue_args(RedisArgs& args, Millis now, std::span<const NewTask* const> all) {
  // Tasks with workflow links go to the trailing section (workflow_lib.lua), after the others.
  std::vector<const NewTask*> plain, linked;
  for (const NewTask* t : all) (t->links.any() ? linked : plain).push_back(t);
  std::span<const NewTask* const> tasks = plain;
  args.reserve(args.size() + 9 * tasks.size() + 10 * linked.size() + 10);
  args.add_int(now).add_int(static_cast<std::int64_t>(tasks.size()));
  for (const NewTask* t : tasks) args.add(t->id);
  for (const NewTask* t : tasks) args.add(t->id).add_copy(new_record(*t, t->eta <= now));
  for (const NewTask* t : tasks) args.add(t->id).add(t->body);
  for (const NewTask* t : tasks) args.add(t->id).add_copy(t->queue + '\x1f' + t->task);
  for (const Group& g : group_tasks(tasks, now)) {
    args.add(g.ready ? "r" : "s").add(g.queue);
    if (g.ready) {
      args.add_int(g.priority).add_int(static_cast<std::int64_t>(g.tasks.size()));
      for (const NewTask* t : g.tasks) args.add(t->id);
    } else {
      args.add_int(g.earliest).add_int(static_cast<std::int64_t>(g.tasks.size()));
      for (const NewTask* t : g.tasks) args.add_int(t->eta).add(t->id);
    }
  }
  if (linked.empty()) return;
  const int at = workflow_section_start(args);
  for (const NewTask* t : linked) add_linked_task_args(args, *t);
  end_workflow_section(args, at);
}

void add_follow_up_args(RedisArgs& args, std::span<const Settlement> settlements) {
  int at = 0;
  for (std::size_t i = 0; i < settlements.size(); ++i) {
    const std::vector<NewTask>& tasks = settlements[i].then.tasks;
    if (tasks.empty()) continue;
    if (at == 0) at = workflow_section_start(args);
    args.add_int(static_cast<std::int64_t>(i + 1)).add_int(static_cast<std::int64_t>(tasks.size()));
    for (const NewTask& t : tasks) add_linked_task_args(args, t);
  }
  if (at != 0) end_workflow_section(args, at);
}

void add_settlement_args(RedisArgs& args, const Settlement& s) {
  switch (s.outcome) {
    case Outcome::kAck:
      args.add("a").add(s.id).add_int(static_cast<std::int64_t>(s.token));
      args.add(task_state_name(s.state)).add(s.result).add_int(s.result_ttl).add("");
      return;
    case Outcome::kRetry:
      args.add("r").add(s.id).add_int(static_cast<std::int64_t>(s.token)).add("retry");
      args.add(s.result).add_int(s.retry_at).add(s.body);
      return;
    case Outcome::kDeadLetter:
      args.add("d").add(s.id).add_int(static_cast<std::int64_t>(s.token)).add("dead");
      args.add(s.result).add("0");
      args.add(s.reason.empty() ? std::string_view("dead-lettered by the worker")
                                : std::string_view(s.reason));
      return;
    case Outcome::kRelease:
      args.add("l").add(s.id).add_int(static_cast<std::int64_t>(s.token)).add("pending");
      args.add("").add("0").add("");
      return;
  }
}

std::vector<bool> parse_flags(const redisReply* r) {
  std::vector<bool> flags;
  flags.reserve(r->elements);
  for (std::size_t i = 0; i < r->elements; ++i) {
    flags.push_back(reply_int_or(r->element[i], 0) == 1);
  }
  return flags;
}

}  // namespace runq::internal
