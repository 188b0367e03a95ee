// Queue paging over a real (temporary) SQLite paging store: past the window
// messages live only in the store and come back in order as consumers
// drain; a requeue returns to its original place, ahead of what is still
// paged; a purge takes the paged messages too; each priority lane pages on
// its own, and higher lanes still go first. Store completions (page loads)
// run on an io_context the test drives: the test waits for them, never for
// time, and asserts only on order and counts.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "amqp/properties.hpp"
#include "broker/queue/queue.hpp"
#include "tests/unit/paging_test_support.hpp"

using namespace roost;
using namespace roost::testing;

namespace {

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// "p<priority>-": the body prefix of the priority test's messages.
std::string lane_prefix(std::uint8_t priority) {
  std::string prefix = storage::testing::numbered("p", priority);
  prefix += '-';
  return prefix;
}

}  // namespace

TEST_CASE("past the window messages page out, and page back in order as a consumer drains") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  CHECK(q.ready_count() == 10);
  CHECK(f.paged(q) == names("m", 4, 10));  // exactly what is past the window

  fake_consumer c;
  c.credit = 3;
  q.add_consumer(&c);  // takes m0..m2 from memory; m3 alone is left, so the next page loads
  REQUIRE(q.loading());
  // Published while older messages are paged out: it goes behind them,
  // although the window has room.
  q.enqueue(make_message("m10"));
  f.settle(q);
  CHECK(bodies(c.got) == names("m", 0, 3));
  CHECK(q.ready_count() == 8);
  CHECK(f.paged(q) == names("m", 7, 11));  // m4..m6 came back and left the store

  c.credit = 100;
  q.dispatch();
  f.settle(q);
  CHECK(bodies(c.got) == names("m", 0, 11));
  for (const queued_message& m : c.got) CHECK_FALSE(m.redelivered);
  CHECK(q.ready_count() == 0);
  CHECK(f.paged(q).empty());
}

TEST_CASE("a paged message whose stored properties do not decode comes back with none, body intact") {
  // As a damaged store row would read (found by fuzz_recovery): property
  // flags past the basic class's last one.
  fixture f;
  queue q(1, "q", {}, f.services(1));
  q.enqueue(make_message("m0"));
  auto damaged = std::make_shared<message>(*make_message("m1"));
  damaged->properties = std::string("\xff\xff", 2);
  q.enqueue(damaged);
  REQUIRE(f.paged(q) == std::vector<std::string>{"m1"});

  fake_consumer c;
  q.add_consumer(&c);
  f.settle(q);
  q.dispatch();
  REQUIRE(bodies(c.got) == std::vector<std::string>{"m0", "m1"});
  amqp::basic_properties salvaged = amqp::decode_properties(c.got[1].msg->properties);
  CHECK_FALSE(salvaged.delivery_mode.has_value());  // a transient page: nothing to keep
  CHECK_FALSE(salvaged.headers.has_value());
}

TEST_CASE("a message requeued into a paged queue goes back to its original position") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  fake_consumer c;
  c.credit = 3;
  q.add_consumer(&c);
  REQUIRE(bodies(c.got) == names("m", 0, 3));
  REQUIRE(q.loading());  // m4.. are being read back while the three come back
  // As a closing channel would: back in any order, then one dispatch.
  std::vector<queued_message> unacked = std::move(c.got);
  c.got.clear();
  q.requeue(std::move(unacked[2]));
  q.requeue(std::move(unacked[0]));
  q.requeue(std::move(unacked[1]));
  CHECK(q.ready_count() == 10);
  c.credit = 100;
  q.dispatch();
  f.settle(q);
  CHECK(bodies(c.got) == names("m", 0, 10));
  REQUIRE(c.got.size() == 10);
  for (std::size_t i = 0; i < c.got.size(); ++i) CHECK(c.got[i].redelivered == (i < 3));
  CHECK(q.ready_count() == 0);
  CHECK(f.paged(q).empty());
}

TEST_CASE("purging a paged queue drops the paged messages too; none comes back") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("old", i)));
  REQUIRE(f.paged(q).size() == 6);
  CHECK(q.purge() == 10);
  CHECK(q.ready_count() == 0);
  CHECK_FALSE(q.head_on_disk());
  CHECK_FALSE(q.take());
  CHECK(f.paged(q).empty());

  // Paging goes on afterwards, and delivers only what came after the purge.
  for (std::uint64_t i = 0; i < 6; ++i) q.enqueue(make_message(storage::testing::numbered("new", i)));
  CHECK(q.ready_count() == 6);
  CHECK(f.paged(q) == names("new", 4, 6));
  fake_consumer c;
  q.add_consumer(&c);
  f.settle(q);
  CHECK(bodies(c.got) == names("new", 0, 6));
  CHECK(q.ready_count() == 0);
  CHECK(f.paged(q).empty());
}

TEST_CASE("a purge while a page load is in flight: what the load read stays purged") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  fake_consumer c;
  c.credit = 3;
  q.add_consumer(&c);  // m3 alone is left in memory: m4.. are being read back
  REQUIRE(q.loading());
  CHECK(q.purge() == 7);
  f.settle(q);  // the load completes after the purge, with the rows it read before it
  CHECK(q.ready_count() == 0);
  c.credit = 100;
  q.dispatch();
  CHECK(bodies(c.got) == names("m", 0, 3));
  CHECK(f.paged(q).empty());
}

TEST_CASE("each priority lane pages on its own, and higher lanes are delivered first") {
  fixture f;
  queue_options options;
  options.arguments.set("x-max-priority", std::int64_t{2});
  queue q(1, "q", options, f.services(6));  // three lanes of two in memory each
  for (std::uint64_t i = 0; i < 4; ++i)
    for (std::uint8_t p = 0; p < 3; ++p)
      q.enqueue(make_message(storage::testing::numbered(lane_prefix(p), i), p));
  CHECK(q.ready_count() == 12);
  for (std::uint8_t p = 0; p < 3; ++p) CHECK(f.paged(q, p) == names(lane_prefix(p), 2, 4));  // its own seq range

  fake_consumer c;
  q.add_consumer(&c);
  // p2's next messages are still on disk: p1's in memory wait for them.
  CHECK(bodies(c.got) == names("p2-", 0, 2));
  CHECK(q.loading());
  f.settle(q);
  CHECK(bodies(c.got) == concat({names("p2-", 0, 4), names("p1-", 0, 4), names("p0-", 0, 4)}));
  CHECK(q.ready_count() == 0);
  for (std::uint8_t p = 0; p < 3; ++p) CHECK(f.paged(q, p).empty());
}
