#include "broker/expiry/deadline_scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace roost {

void deadline_scheduler::at(std::int64_t at_ms, std::function<void()> f) {
  due_.emplace(at_ms, std::move(f));
  if (armed_for_ == 0 || at_ms < armed_for_) arm();
}

void deadline_scheduler::arm() {
  if (due_.empty()) {
    armed_for_ = 0;
    return;
  }
  armed_for_ = due_.begin()->first;
  timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, armed_for_ - now_ms_())));
  // Re-arming cancels the previous wait; its handler sees operation_aborted.
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) fire();
  });
}

void deadline_scheduler::fire() {
  std::int64_t now = now_ms_();
  // Taken out first: a callback may schedule again.
  std::vector<std::function<void()>> ready;
  auto end = due_.upper_bound(now);
  for (auto it = due_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
  due_.erase(due_.begin(), end);
  armed_for_ = 0;
  for (auto& f : ready) f();
  if (armed_for_ == 0) arm();
}

}  // namespace roost
