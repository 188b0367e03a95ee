// Per-queue publisher flow control, RabbitMQ's credit flow in spirit: while
// a queue that is being consumed has a backlog past a high-water mark, the
// connections publishing into it stop being read (invisibly to the client:
// TCP pushes back), so the broker's one thread spends its time delivering
// instead of piling up messages that would soon be paged to disk.
//
// The queue reports each append and each message leaving its ready list;
// this object decides when to hold publishers and when to let them go, and
// wakes the connections that wait. Publishers go on when
//   - the backlog falls under the low-water mark (consumers caught up),
//   - the consumers have not got there within `max_hold`: they are stuck
//     (not acking, or themselves paused) or too slow for holding to help;
//     the queue then gives up holding until its backlog next falls under the
//     low-water mark, and grows and pages as it would without flow control,
//     so a slow worker's queue still takes bursts at once, as RabbitMQ's do;
//   - the queue loses its consumers, is purged or deleted.
// A queue without consumers never holds anyone (a queue being filled for
// later is filled at full speed).
//
// Broker thread only. Per message it costs a comparison or two.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace roost {

class publisher_flow {
 public:
  using clock = std::chrono::steady_clock;

  struct thresholds {
    std::size_t high = 0;  // hold publishers once the ready backlog exceeds this
    std::size_t low = 0;   // release them once it is below this
  };
  // The marks for a queue that keeps `queue_window` ready messages in memory
  // (see publisher_flow.cpp for the reasoning).
  static thresholds for_window(std::size_t queue_window);
  // The longest one hold lasts (publisher_flow.cpp says why this long).
  static constexpr auto max_hold = std::chrono::milliseconds(200);

  explicit publisher_flow(thresholds t) : marks_(t) {}
  publisher_flow(const publisher_flow&) = delete;
  publisher_flow& operator=(const publisher_flow&) = delete;
  // Wakes nobody: a queue deleted at run time has released its publishers
  // when its consumers were detached, and at shutdown the waiters (and what
  // their wake-ups reach) may be gone already.
  ~publisher_flow() = default;

  // A message was appended; `ready` is the backlog now.
  void appended(std::size_t ready, bool has_consumers) {
    if (!holding_ && !gave_up_ && has_consumers && ready > marks_.high) hold();
  }
  // A message left the ready list (delivered, got, dropped); `ready` is the backlog now.
  void drained(std::size_t ready) {
    if (ready >= marks_.low) return;
    gave_up_ = false;
    if (holding_) release();
  }
  // The queue lost its last consumer, was purged, or is being deleted.
  void release();

  // True while publishers into this queue should wait. A waiting publisher
  // asks with the time now and again (the reader's re-check): that is how a
  // hold that lasts too long ends.
  bool holding() const { return holding_; }
  bool holding(clock::time_point now);
  // Runs `wake` once, when the queue next stops holding. A waiter calls this
  // once per hold (see releases()), not per message.
  void wait(std::function<void()> wake) { waiters_.push_back(std::move(wake)); }
  // How many times the queue has let its publishers go: a waiter registered
  // at the current count is still registered, one from an earlier count was
  // woken (or its wake-up spent) and must register again if it still waits.
  std::uint64_t releases() const { return releases_; }

 private:
  void hold();

  thresholds marks_;
  bool holding_ = false;
  clock::time_point held_since_{};
  // The last hold ran out of time: no new one until the backlog falls under the low-water mark.
  bool gave_up_ = false;
  std::uint64_t releases_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace roost
