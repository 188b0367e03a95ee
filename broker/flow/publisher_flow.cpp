// When a consumed queue holds its publishers back, and when it lets them go.
#include "broker/flow/publisher_flow.hpp"

#include <algorithm>

namespace roost {

publisher_flow::thresholds publisher_flow::for_window(std::size_t queue_window) {
  // The backlog only has to keep the consumers busy while a released
  // publisher comes back: one turn of the event loop and one socket read,
  // tens of microseconds, a few hundred messages even at 1M msg/s, plus one
  // burst of deliveries when a consumer acks a large batch at once. 4,096
  // ready messages (the low-water mark) cover that with a wide margin.
  // The gap up to the high-water mark sets how often publishers pause: once
  // per 4,096 messages delivered is a few dozen pauses a second at full
  // speed, each costing a timer cancel and a coroutine resumption. Keeping
  // the backlog this small also keeps the messages in cache between publish
  // and delivery. A paused publisher still finishes the read it is in (up to
  // 128 KiB, under 2,000 small messages), so the backlog overshoots the
  // high-water mark by that much per publisher.
  // With a small --queue-window the marks scale down to half of it, so that
  // a held queue does not page.
  std::size_t high = std::min<std::size_t>(8192, queue_window / 2);
  return thresholds{high, std::max<std::size_t>(1, high / 2)};
}

// max_hold: consumers that keep up with a fast publisher drain the 4,096
// messages between the marks in a few milliseconds (at 300k msg/s, 14 ms).
// Ones that need over 200 ms (slower than about 20k msg/s) are too slow for
// holding to pay: their publishers would be paced to them for seconds on
// end, the queue a brake rather than a buffer. The queue buffers instead,
// as RabbitMQ's would. Stuck consumers cost a publisher this one pause.

void publisher_flow::hold() {
  holding_ = true;
  held_since_ = clock::now();  // once per hold, not per message
}

void publisher_flow::release() {
  holding_ = false;
  ++releases_;
  if (waiters_.empty()) return;
  // A wake-up may lead to a new wait on this queue: run the ones we have now.
  auto waking = std::move(waiters_);
  waiters_.clear();
  for (auto& wake : waking) wake();
}

bool publisher_flow::holding(clock::time_point now) {
  if (!holding_) return false;
  if (now - held_since_ < max_hold) return true;
  gave_up_ = true;
  release();
  return false;
}

}  // namespace roost
