// The expiry index: messages with a TTL leave the queue when their time
// has passed wherever they are, counts exclude them at once, the lower of
// queue and message TTL wins, and expired messages are dead-lettered.
// No store and no timers here: expire() is called with a chosen time.
#include <doctest/doctest.h>

#include <vector>

#include "broker/expiry/wall_clock.hpp"
#include "broker/model/vhost.hpp"

using namespace roost;

namespace {

message_ref make_message(std::string body, std::int64_t expiration_ms = -1, std::string routing_key = "") {
  auto m = std::make_shared<message>();
  m->body = std::move(body);
  m->routing_key = std::move(routing_key);
  m->properties = std::string("\0\0", 2);
  m->expiration_ms = expiration_ms;
  return m;
}

struct taker final : consumer {
  std::vector<std::string> got;
  bool can_take() const override { return true; }
  void deliver(queue&, queued_message&& m) override { got.push_back(m.msg->body); }
  void queue_deleted(queue&) override {}
  bool exclusive() const override { return false; }
};

queue_options with(amqp::field_table args) {
  queue_options o;
  o.arguments = std::move(args);
  return o;
}

}  // namespace

TEST_CASE("a short TTL behind a long one expires on time, in the middle of the queue") {
  queue q(1, "q", {});
  q.enqueue(make_message("long", 60000));
  q.enqueue(make_message("short", 100));
  q.enqueue(make_message("none"));
  CHECK(q.ready_count() == 3);
  CHECK(q.ready_bytes() == 13);
  q.expire(wall_clock_ms() + 1000);
  CHECK(q.ready_count() == 2);
  CHECK(q.ready_bytes() == 8);
  taker t;
  q.add_consumer(&t);
  CHECK(t.got == std::vector<std::string>{"long", "none"});
  CHECK(q.ready_count() == 0);
}

TEST_CASE("the lower of queue and message TTL wins") {
  queue q(1, "q", with(amqp::field_table{{{"x-message-ttl", std::int32_t{1000}}}}));
  q.enqueue(make_message("queue-ttl"));
  q.enqueue(make_message("message-lower", 10));
  q.enqueue(make_message("message-higher", 100000));
  std::int64_t now = wall_clock_ms();
  q.expire(now + 500);
  CHECK(q.ready_count() == 2);
  q.expire(now + 1500);
  CHECK(q.ready_count() == 0);
}

TEST_CASE("expired messages are never delivered, even without a timer") {
  queue q(1, "q", {});
  q.enqueue(make_message("gone", 0));
  q.enqueue(make_message("kept"));
  // Expired means strictly past the expiry time; wait out this millisecond.
  std::int64_t start = wall_clock_ms();
  while (wall_clock_ms() <= start + 1) {
  }
  taker t;
  q.add_consumer(&t);
  CHECK(t.got == std::vector<std::string>{"kept"});
  CHECK_FALSE(q.take().has_value());
}

TEST_CASE("expired messages are dead-lettered with reason expired; a self-cycle is dropped") {
  vhost v("/");
  queue& target = *v.declare_queue("target", {}, false, 1).q;
  amqp::field_table args{{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "target"}}};
  queue& src = *v.declare_queue("src", with(args), false, 1).q;
  src.enqueue(make_message("a", 10));
  src.enqueue(make_message("b", 10));
  src.expire(wall_clock_ms() + 100);
  CHECK(src.ready_count() == 0);
  REQUIRE(target.ready_count() == 2);
  std::optional<queued_message> m = target.take();
  REQUIRE(m.has_value());
  CHECK(m->msg->body == "a");
  CHECK(m->msg->exchange == "");
  CHECK(m->msg->routing_key == "target");

  amqp::field_table self{{{"x-dead-letter-exchange", ""}, {"x-message-ttl", std::int32_t{10}}}};
  queue& loop = *v.declare_queue("loop", with(self), false, 1).q;
  loop.enqueue(make_message("x", -1, "loop"));
  loop.expire(wall_clock_ms() + 100);
  CHECK(loop.ready_count() == 0);
  CHECK(v.dead_letters().cycles_dropped() == 1);
}

TEST_CASE("many expired slots are compacted and the order of the rest is kept") {
  queue q(1, "q", {});
  for (int i = 0; i < 10000; ++i) q.enqueue(make_message(std::to_string(i), i % 10 == 0 ? 1000000 : 5));
  q.expire(wall_clock_ms() + 100);
  CHECK(q.ready_count() == 1000);
  taker t;
  q.add_consumer(&t);
  REQUIRE(t.got.size() == 1000);
  CHECK(t.got.front() == "0");
  CHECK(t.got.back() == "9990");
}

TEST_CASE("drop-head sheds the oldest past x-max-length and x-max-length-bytes") {
  queue q(1, "q", with(amqp::field_table{{{"x-max-length", std::int32_t{2}}}}));
  for (auto b : {"a", "b", "c"}) q.enqueue(make_message(b));
  CHECK(q.ready_count() == 2);
  CHECK(q.take()->msg->body == "b");
  queue by_bytes(2, "b", with(amqp::field_table{{{"x-max-length-bytes", std::int32_t{5}}}}));
  for (auto b : {"aaa", "bb", "c"}) by_bytes.enqueue(make_message(b));
  CHECK(by_bytes.ready_count() == 2);
  CHECK(by_bytes.ready_bytes() == 3);
}

TEST_CASE("reject-publish refuses once one more message would go over the limit") {
  queue q(1, "q", with(amqp::field_table{{{"x-max-length", std::int32_t{1}}, {"x-overflow", "reject-publish"}}}));
  CHECK_FALSE(q.refuses(*make_message("a")));
  q.enqueue(make_message("a"));
  CHECK(q.refuses(*make_message("b")));
  queue bytes(2, "b", with(amqp::field_table{{{"x-max-length-bytes", std::int32_t{3}}, {"x-overflow", "reject-publish"}}}));
  CHECK_FALSE(bytes.refuses(*make_message("abc")));
  CHECK(bytes.refuses(*make_message("abcd")));
}

TEST_CASE("a stored queue whose arguments fail today's checks still works, without them") {
  queue q(1, "old", with(amqp::field_table{{{"x-message-ttl", "soon"}, {"x-max-length", std::int32_t{1}}}}));
  CHECK_FALSE(q.arguments().message_ttl_ms.has_value());
  q.enqueue(make_message("a"));
  q.enqueue(make_message("b"));
  CHECK(q.ready_count() == 2);
}
