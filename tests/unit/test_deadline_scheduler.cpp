// The broker's wake-up service: callbacks run in deadline order, not
// before their time, and may schedule more.
#include <doctest/doctest.h>

#include <vector>

#include "broker/deadline_scheduler.hpp"

using namespace roost;

TEST_CASE("callbacks run in deadline order, not early, and can schedule again") {
  boost::asio::io_context io;
  deadline_scheduler timers(io);
  std::int64_t start = wall_clock_ms();
  std::vector<std::pair<int, std::int64_t>> ran;
  auto note = [&](int id) { return [&, id] { ran.emplace_back(id, wall_clock_ms()); }; };
  timers.at(start + 30, note(3));
  timers.at(start + 10, note(1));
  timers.at(start + 20, [&] {
    ran.emplace_back(2, wall_clock_ms());
    timers.at(wall_clock_ms() + 5, note(4));  // earlier than the pending 30
  });
  io.run();
  REQUIRE(ran.size() == 4);
  CHECK(ran[0].first == 1);
  CHECK(ran[1].first == 2);
  CHECK(ran[2].first == 4);
  CHECK(ran[3].first == 3);
  CHECK(ran[0].second >= start + 10);
  CHECK(ran[3].second >= start + 30);
  CHECK(timers.pending() == 0);
}
