// Queue dispatch: round-robin among consumers, credit (prefetch) respected,
// requeue back to the original position, consumer detachment, single active consumer,
// priority lanes.
#include <doctest/doctest.h>

#include <vector>

#include "broker/queue/queue.hpp"

using namespace roost;

namespace {

// A consumer that takes up to `credit` messages and records what it got.
struct fake_consumer final : consumer {
  std::size_t credit = 1000;
  bool is_exclusive = false;
  std::vector<queued_message> got;
  bool lost_queue = false;

  bool can_take() const override { return got.size() < credit; }
  void deliver(queue&, queued_message&& m) override { got.push_back(std::move(m)); }
  void queue_deleted(queue&) override { lost_queue = true; }
  bool exclusive() const override { return is_exclusive; }
};

message_ref make_message(std::string body) {
  auto m = std::make_shared<message>();
  m->body = std::move(body);
  return m;
}

std::vector<std::string> bodies(const std::vector<queued_message>& ms) {
  std::vector<std::string> out;
  for (auto& m : ms) out.push_back(m.msg->body);
  return out;
}

}  // namespace

TEST_CASE("messages wait in order until a consumer arrives") {
  queue q(1, "q", {});
  for (auto b : {"a", "b", "c"}) q.enqueue(make_message(b));
  CHECK(q.ready_count() == 3);
  fake_consumer c;
  q.add_consumer(&c);
  CHECK(bodies(c.got) == std::vector<std::string>{"a", "b", "c"});
  CHECK(q.ready_count() == 0);
}

TEST_CASE("round-robin between consumers") {
  queue q(1, "q", {});
  fake_consumer c1, c2, c3;
  q.add_consumer(&c1);
  q.add_consumer(&c2);
  q.add_consumer(&c3);
  for (int i = 0; i < 9; ++i) q.enqueue(make_message(std::to_string(i)));
  CHECK(c1.got.size() == 3);
  CHECK(c2.got.size() == 3);
  CHECK(c3.got.size() == 3);
  CHECK(bodies(c1.got) == std::vector<std::string>{"0", "3", "6"});
}

TEST_CASE("a consumer without credit is skipped, and dispatch stops when nobody has credit") {
  queue q(1, "q", {});
  fake_consumer slow, fast;
  slow.credit = 1;
  fast.credit = 3;
  q.add_consumer(&slow);
  q.add_consumer(&fast);
  for (int i = 0; i < 6; ++i) q.enqueue(make_message(std::to_string(i)));
  CHECK(slow.got.size() == 1);
  CHECK(fast.got.size() == 3);
  CHECK(q.ready_count() == 2);
  fast.credit = 10;
  q.dispatch();
  CHECK(fast.got.size() == 5);
  CHECK(q.ready_count() == 0);
}

TEST_CASE("requeued messages return to their original position, marked redelivered") {
  queue q(1, "q", {});
  for (auto b : {"a", "b", "c", "d"}) q.enqueue(make_message(b));
  auto a = q.take();
  auto b = q.take();
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(a->redelivered);
  q.enqueue(make_message("e"));
  q.requeue(std::move(*b));
  q.requeue(std::move(*a));
  std::vector<std::string> order;
  std::vector<bool> redelivered;
  while (auto m = q.take()) {
    order.push_back(m->msg->body);
    redelivered.push_back(m->redelivered);
  }
  CHECK(order == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(redelivered == std::vector<bool>{true, true, false, false, false});
}

TEST_CASE("purge drops ready messages and reports how many") {
  queue q(1, "q", {});
  for (int i = 0; i < 5; ++i) q.enqueue(make_message("x"));
  CHECK(q.purge() == 5);
  CHECK(q.ready_count() == 0);
  CHECK_FALSE(q.take());
}

TEST_CASE("removing consumers keeps round-robin going and tracks auto-delete") {
  queue q(1, "q", {});
  fake_consumer c1, c2;
  CHECK_FALSE(q.unused_after_consumers());
  q.add_consumer(&c1);
  q.add_consumer(&c2);
  CHECK(q.remove_consumer(&c1));
  CHECK_FALSE(q.remove_consumer(&c1));
  for (int i = 0; i < 3; ++i) q.enqueue(make_message("x"));
  CHECK(c2.got.size() == 3);
  CHECK(c1.got.empty());
  CHECK(q.remove_consumer(&c2));
  CHECK(q.unused_after_consumers());
}

TEST_CASE("detach_consumers tells every consumer the queue is gone") {
  queue q(1, "q", {});
  fake_consumer c1, c2;
  c2.is_exclusive = true;
  q.add_consumer(&c1);
  q.add_consumer(&c2);
  CHECK(q.has_exclusive_consumer());
  q.detach_consumers();
  CHECK(c1.lost_queue);
  CHECK(c2.lost_queue);
  CHECK(q.consumer_count() == 0);
}

TEST_CASE("single active consumer: only the first attached receives; the next takes over when it leaves") {
  queue_options options;
  options.arguments.set("x-single-active-consumer", true);
  queue q(1, "q", options);
  fake_consumer first, second;
  first.credit = 2;
  q.add_consumer(&first);
  q.add_consumer(&second);
  for (auto b : {"a", "b", "c", "d"}) q.enqueue(make_message(b));
  CHECK(bodies(first.got) == std::vector<std::string>{"a", "b"});
  CHECK(second.got.empty());  // waits even while the active one has no credit
  CHECK(q.ready_count() == 2);
  q.remove_consumer(&first);
  q.dispatch();
  CHECK(bodies(second.got) == std::vector<std::string>{"c", "d"});
}

namespace {

message_ref with_priority(std::string body, std::uint8_t priority) {
  auto m = std::make_shared<message>();
  m->body = std::move(body);
  m->priority = priority;
  return m;
}

queue_options max_priority(std::int64_t levels) {
  queue_options options;
  options.arguments.set("x-max-priority", levels);
  return options;
}

}  // namespace

TEST_CASE("a priority queue delivers the highest priority first, in arrival order within one") {
  queue q(1, "q", max_priority(5));
  q.enqueue(with_priority("low-1", 1));
  q.enqueue(with_priority("none", 0));
  q.enqueue(with_priority("high-1", 5));
  q.enqueue(with_priority("low-2", 1));
  q.enqueue(with_priority("over-max", 200));  // counts as 5, after the earlier 5
  q.enqueue(with_priority("mid", 3));
  CHECK(q.ready_count() == 6);
  fake_consumer c;
  q.add_consumer(&c);
  CHECK(bodies(c.got) == std::vector<std::string>{"high-1", "over-max", "mid", "low-1", "low-2", "none"});
}

TEST_CASE("without x-max-priority the priority property is ignored") {
  queue q(1, "q", {});
  q.enqueue(with_priority("a", 0));
  q.enqueue(with_priority("b", 9));
  fake_consumer c;
  q.add_consumer(&c);
  CHECK(bodies(c.got) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a requeued message returns to its place in its own priority") {
  queue q(1, "q", max_priority(2));
  for (auto [body, p] : {std::pair{"a2", 2}, {"b0", 0}, {"c2", 2}, {"d1", 1}})
    q.enqueue(with_priority(body, static_cast<std::uint8_t>(p)));
  fake_consumer c;
  c.credit = 2;
  q.add_consumer(&c);
  REQUIRE(bodies(c.got) == std::vector<std::string>{"a2", "c2"});
  q.requeue(std::move(c.got[1]));
  q.requeue(std::move(c.got[0]));
  c.got.clear();
  c.credit = 10;
  q.dispatch();
  CHECK(bodies(c.got) == std::vector<std::string>{"a2", "c2", "d1", "b0"});
  CHECK(c.got[0].redelivered);
}

TEST_CASE("take and purge see every priority level") {
  queue q(1, "q", max_priority(9));
  for (int p = 0; p < 10; ++p) q.enqueue(with_priority(std::to_string(p), static_cast<std::uint8_t>(p)));
  CHECK(q.take()->msg->body == "9");
  CHECK(q.take()->msg->body == "8");
  CHECK(q.ready_count() == 8);
  CHECK(q.purge() == 8);
  CHECK(q.ready_count() == 0);
  CHECK(!q.take());
  q.enqueue(with_priority("after", 4));
  CHECK(q.take()->msg->body == "after");
}
