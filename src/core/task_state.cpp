#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "runq/store.hpp"

namespace runq {
namespace {

constexpr std::array<std::pair<TaskState, std::string_view>, 12> kNames = {{
    {TaskState::kPending, "pending"},
    {TaskState::kScheduled, "scheduled"},
    {TaskState::kReserved, "reserved"},
    {TaskState::kStarted, "started"},
    {TaskState::kSuccess, "success"},
    {TaskState::kFailure, "failure"},
    {TaskState::kRetry, "retry"},
    {TaskState::kRevoked, "revoked"},
    {TaskState::kExpired, "expired"},
    {TaskState::kDead, "dead"},
    {TaskState::kWaiting, "waiting"},
    {TaskState::kCanceled, "canceled"},
}};

}  // namespace

std::string_view task_state_name(TaskState state) {
  for (const auto& [s, name] : kNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<TaskState> parse_task_state(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [s, n] : kNames) {
    if (n == lower) return s;
  }
  return std::nullopt;
}

bool is_final(TaskState state) {
  return state == TaskState::kSuccess || state == TaskState::kFailure ||
         state == TaskState::kRevoked || state == TaskState::kExpired ||
         state == TaskState::kDead || state == TaskState::kCanceled;
}

}  // namespace runq
