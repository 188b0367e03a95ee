// The broker's wake-up service: an earlier deadline re-arms the timer,
// callbacks run in deadline order and never before their time, and may
// schedule more. The test owns the scheduler's clock, so what is due never
// depends on how loaded the machine is; the timer's real waits are the few
// milliseconds between the deadlines.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "broker/expiry/deadline_scheduler.hpp"

using namespace roost;

TEST_CASE("an earlier deadline re-arms the timer; callbacks run in deadline order, never early") {
  boost::asio::io_context io;
  std::int64_t now = 1'000;  // only the test moves it
  deadline_scheduler timers(io, [&] { return now; });
  std::vector<int> order;
  std::map<int, std::int64_t> ran_at;
  auto note = [&](int id) {
    return [&, id] {
      order.push_back(id);
      ran_at[id] = now;
    };
  };
  // Runs handlers (wake-ups, and the waits that re-arming cancelled) until
  // done() holds; bounded, so a callback that never runs fails the test
  // instead of hanging it.
  auto run_until = [&](auto done) {
    for (int i = 0; i < 100 && !done(); ++i) io.run_one();
    return done();
  };

  timers.at(1'030, note(3));
  CHECK(timers.armed_for() == 1'030);
  timers.at(1'010, note(1));
  CHECK(timers.armed_for() == 1'010);  // earlier than the pending 1'030: re-armed
  timers.at(1'020, [&] {
    note(2)();
    timers.at(1'025, note(4));  // earlier than the pending 1'030, from inside a callback
  });
  CHECK(timers.armed_for() == 1'010);  // later than the earliest: left as it was

  // A millisecond before 1 is due, a wake-up runs what is due (the probe) and not 1.
  now = 1'009;
  bool probe_ran = false;
  timers.at(1'009, [&] { probe_ran = true; });
  REQUIRE(run_until([&] { return probe_ran; }));
  CHECK(order.empty());
  CHECK(timers.armed_for() == 1'010);

  now = 1'010;  // 1 is due to the millisecond; 2 is not
  REQUIRE(run_until([&] { return !order.empty(); }));
  CHECK(order == std::vector<int>{1});
  CHECK(timers.armed_for() == 1'020);

  now = 1'024;
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<int>{1, 2});
  CHECK(timers.pending() == 2);
  CHECK(timers.armed_for() == 1'025);  // 4, scheduled by 2, before the pending 3

  now = 1'030;  // 4 and 3 are both due at one wake-up
  REQUIRE(run_until([&] { return order.size() == 4; }));
  CHECK(order == std::vector<int>{1, 2, 4, 3});
  for (auto [id, deadline] : {std::pair{1, 1'010}, {2, 1'020}, {4, 1'025}, {3, 1'030}}) CHECK(ran_at[id] >= deadline);
  CHECK(timers.pending() == 0);
  CHECK(timers.armed_for() == 0);
}
