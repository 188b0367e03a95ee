// Per-queue publisher flow control: when a consumed queue holds publishers
// back, and every way it lets them go (drained, held too long, no
// consumers, purge, deletion), waking each waiter once.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/flow/publisher_flow.hpp"
#include "broker/queue/queue.hpp"

using namespace roost;

namespace {

using clock = publisher_flow::clock;

constexpr publisher_flow::thresholds marks{10, 5};

// Appends messages one by one, as publishes do, up to a backlog of `ready`.
void fill(publisher_flow& f, std::size_t from, std::size_t ready, bool consumed = true) {
  for (std::size_t n = from + 1; n <= ready; ++n) f.appended(n, consumed);
}

struct fake_consumer final : consumer {
  std::size_t credit = 0;
  std::vector<queued_message> got;
  bool can_take() const override { return got.size() < credit; }
  void deliver(queue&, queued_message&& m) override { got.push_back(std::move(m)); }
  void queue_deleted(queue&) override {}
  bool exclusive() const override { return false; }
};

message_ref make_message(std::string body) {
  auto m = std::make_shared<message>();
  m->body = std::move(body);
  return m;
}

}  // namespace

TEST_CASE("the marks are a fraction of a small window and capped for a large one") {
  auto large = publisher_flow::for_window(100000);
  CHECK(large.high == 8192);
  CHECK(large.low == 4096);
  auto small = publisher_flow::for_window(1000);
  CHECK(small.high == 500);
  CHECK(small.low == 250);
  auto tiny = publisher_flow::for_window(2);
  CHECK(tiny.high == 1);
  CHECK(tiny.low == 1);
}

TEST_CASE("a consumed queue holds publishers past the high-water mark until it drains under the low one") {
  publisher_flow f(marks);
  fill(f, 0, 10);
  CHECK_FALSE(f.holding());
  f.appended(11, true);
  CHECK(f.holding());
  int woken = 0;
  f.wait([&] { ++woken; });
  f.drained(10);
  f.drained(5);
  CHECK(f.holding());
  CHECK(woken == 0);
  f.drained(4);
  CHECK_FALSE(f.holding());
  CHECK(woken == 1);
  f.drained(3);
  CHECK(woken == 1);  // once per wait
}

TEST_CASE("a queue without consumers never holds publishers") {
  publisher_flow f(marks);
  fill(f, 0, 1000, false);
  CHECK_FALSE(f.holding());
}

TEST_CASE("each release wakes the waiters of its hold and counts") {
  publisher_flow f(marks);
  fill(f, 0, 11);
  int a = 0, b = 0;
  f.wait([&] { ++a; });
  f.wait([&] { ++b; });
  CHECK(f.releases() == 0);
  f.release();
  CHECK(a == 1);
  CHECK(b == 1);
  CHECK(f.releases() == 1);
  fill(f, 0, 11);
  f.release();
  CHECK(a == 1);  // a wake-up is spent once
  CHECK(f.releases() == 2);
}

TEST_CASE("a hold lasts at most max_hold; then the queue buffers until its backlog falls under the low mark") {
  publisher_flow f(marks);
  auto t0 = clock::now();
  fill(f, 0, 11);
  int woken = 0;
  f.wait([&] { ++woken; });
  CHECK(f.holding(t0 + publisher_flow::max_hold / 2));
  CHECK_FALSE(f.holding(clock::now() + publisher_flow::max_hold));
  CHECK(woken == 1);
  // Slow or stuck consumers: the queue grows without holding anyone.
  fill(f, 11, 100);
  CHECK_FALSE(f.holding());
  f.drained(50);
  f.appended(51, true);
  CHECK_FALSE(f.holding());
  // Once the consumers have caught up, the next backlog is held again.
  f.drained(4);
  fill(f, 4, 11);
  CHECK(f.holding());
}

TEST_CASE("a queue reports appends and deliveries to its flow") {
  // No stores: the test stays inside the window of 40 (marks 20 / 10).
  queue q(1, "q", {}, queue_services{.window = 40});
  fake_consumer c;
  q.add_consumer(&c);
  for (int i = 0; i < 21; ++i) q.enqueue(make_message(std::to_string(i)));
  CHECK(q.flow().holding());
  int woken = 0;
  q.flow().wait([&] { ++woken; });
  c.credit = 11;
  q.dispatch();
  CHECK(q.ready_count() == 10);
  CHECK(q.flow().holding());
  c.credit = 12;
  q.dispatch();
  CHECK_FALSE(q.flow().holding());
  CHECK(woken == 1);
}

TEST_CASE("a queue whose last consumer leaves, that is purged or deleted, lets publishers go") {
  queue q(1, "q", {}, queue_services{.window = 40});
  fake_consumer c;
  q.add_consumer(&c);
  for (int i = 0; i < 21; ++i) q.enqueue(make_message(std::to_string(i)));
  REQUIRE(q.flow().holding());
  q.remove_consumer(&c);
  CHECK_FALSE(q.flow().holding());
  q.add_consumer(&c);
  q.enqueue(make_message("x"));
  REQUIRE(q.flow().holding());
  q.purge();
  CHECK_FALSE(q.flow().holding());
  q.enqueue(make_message("y"));
  for (int i = 0; i < 20; ++i) q.enqueue(make_message(std::to_string(i)));
  REQUIRE(q.flow().holding());
  int woken = 0;
  q.flow().wait([&] { ++woken; });
  q.detach_consumers();  // the queue is being deleted
  CHECK_FALSE(q.flow().holding());
  CHECK(woken == 1);
}
