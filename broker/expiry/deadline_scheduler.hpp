// Wake-ups at wall-clock times for the broker thread: message TTL and
// unused-queue expiry (x-expires) ask it to run a function at a deadline.
//
// One steady_timer on the broker's io_context, armed for the earliest
// deadline; no thread. Deadlines are wall-clock milliseconds because they
// are stored with entries and must mean the same after a restart. Broker
// thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/expiry/wall_clock.hpp"

namespace roost {

class deadline_scheduler {
 public:
  explicit deadline_scheduler(boost::asio::io_context& io) : timer_(io) {}

  // Runs f on the broker thread at (or just after) at_ms. Callers that may
  // be gone by then capture a lifetime token and check it.
  void at(std::int64_t at_ms, std::function<void()> f);
  std::size_t pending() const { return due_.size(); }

 private:
  void arm();
  void fire();

  boost::asio::steady_timer timer_;
  std::multimap<std::int64_t, std::function<void()>> due_;
  std::int64_t armed_for_ = 0;
};

}  // namespace roost
