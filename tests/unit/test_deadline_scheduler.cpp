// The broker's wake-up service: callbacks run in deadline order, never
// before their time, and may schedule more (earlier than what is pending).
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "broker/expiry/deadline_scheduler.hpp"

using namespace roost;

TEST_CASE("callbacks run in deadline order, not early, and can schedule again") {
  boost::asio::io_context io;
  deadline_scheduler timers(io);
  std::int64_t start = wall_clock_ms();
  std::vector<int> order;
  std::map<int, std::int64_t> ran_at;
  auto note = [&](int id) {
    return [&, id] {
      order.push_back(id);
      ran_at[id] = wall_clock_ms();
    };
  };
  timers.at(start + 30, note(3));
  timers.at(start + 10, note(1));
  timers.at(start + 20, [&] {
    note(2)();
    timers.at(start + 25, note(4));  // earlier than the pending 30: the timer is re-armed
  });
  io.run();
  REQUIRE(order.size() == 4);
  CHECK(order[0] == 1);
  CHECK(order[1] == 2);
  CHECK(ran_at[1] >= start + 10);
  CHECK(ran_at[2] >= start + 20);
  CHECK(ran_at[4] >= start + 25);
  CHECK(ran_at[3] >= start + 30);
  CHECK(timers.pending() == 0);
}
