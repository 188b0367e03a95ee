// Wake-ups at wall-clock times for the broker thread: message TTL and
// unused-queue expiry (x-expires) ask it to run a function at a deadline.
//
// One steady_timer on the broker's io_context, armed for the earliest
// deadline; no thread. Deadlines are wall-clock milliseconds because they
// are stored with entries and must mean the same after a restart. Broker
// thread only.
//
// The clock is a parameter so that tests decide what time it is: the timer
// still waits real time, but what is due is judged by the clock alone. It
// is read only when the timer is armed or wakes up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/expiry/wall_clock.hpp"

namespace roost {

class deadline_scheduler {
 public:
  using clock_fn = std::function<std::int64_t()>;

  explicit deadline_scheduler(boost::asio::io_context& io, clock_fn now_ms = wall_clock_ms)
      : timer_(io), now_ms_(std::move(now_ms)) {}

  // Runs f on the broker thread at (or just after) at_ms. Callers that may
  // be gone by then capture a lifetime token and check it.
  void at(std::int64_t at_ms, std::function<void()> f);
  std::size_t pending() const { return due_.size(); }
  // The deadline the timer is waiting for; 0 when it waits for nothing.
  std::int64_t armed_for() const { return armed_for_; }

 private:
  void arm();
  void fire();

  boost::asio::steady_timer timer_;
  clock_fn now_ms_;
  std::multimap<std::int64_t, std::function<void()>> due_;
  std::int64_t armed_for_ = 0;
};

}  // namespace roost
