// wait_until: polls a condition until it holds or a deadline passes. Tests use this instead of
// sleeping for a fixed time: it returns as soon as the condition is true.
#pragma once

#include <chrono>
#include <thread>

namespace runq::testing {

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace runq::testing
