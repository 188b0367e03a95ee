// Unit tests for broker/delay_schedule (due order, ties in arrival order,
// batches, year-long delays) and broker/delayed_delivery (the x-delay
// header, release into the routed queues, deleted targets, delaying
// exchanges).
#include <doctest/doctest.h>

#include <algorithm>

#include <random>
#include <string>

#include "amqp/properties.hpp"
#include "broker/delay/delay_schedule.hpp"
#include "broker/delay/delayed_delivery.hpp"
#include "broker/model/vhost.hpp"

using namespace roost;

namespace {

message_ref with_delay(std::optional<amqp::field_value> delay, std::string body = "b") {
  amqp::basic_properties p;
  if (delay) {
    amqp::field_table headers;
    headers.set("x-delay", *delay);
    p.headers = std::move(headers);
  }
  auto msg = std::make_shared<message>();
  amqp::wire_writer out(msg->properties);
  amqp::encode_properties(out, p);
  msg->body = std::move(body);
  return msg;
}

}  // namespace

TEST_CASE("delay schedule: items leave in due order, ties in arrival order") {
  delay_schedule<int> s;
  CHECK_FALSE(s.next_due().has_value());
  s.push(300, 1);
  s.push(100, 2);
  s.push(200, 3);
  s.push(100, 4);
  CHECK(s.next_due() == 100);
  std::vector<int> out;
  CHECK(s.pop_due(99, out, 100) == 0);
  CHECK(s.pop_due(200, out, 100) == 3);
  CHECK(out == std::vector{2, 4, 3});
  CHECK(s.next_due() == 300);
  CHECK(s.pop_due(1000, out, 100) == 1);
  CHECK(out.back() == 1);
  CHECK(s.empty());
}

TEST_CASE("delay schedule: chosen items are taken out or rescheduled, keeping their arrival numbers") {
  delay_schedule<int> s;
  for (int i = 0; i < 6; ++i) s.push(100 * (i + 1), i);  // arrivals 0..5
  std::vector<std::uint64_t> arrivals;
  s.for_each([&](std::int64_t due, std::uint64_t arrival, int item) {
    CHECK(due == 100 * (item + 1));
    arrivals.push_back(arrival);
  });
  std::sort(arrivals.begin(), arrivals.end());
  CHECK(arrivals == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5});
  std::vector<int> out;
  CHECK(s.take_if([](std::int64_t, std::uint64_t, int item) { return item % 2 == 1; }, out) == 3);
  std::sort(out.begin(), out.end());
  CHECK(out == std::vector{1, 3, 5});
  // Item 0 now due last; item 4 first, ahead of 2 (due 300).
  CHECK(s.reschedule_if([](std::int64_t, std::uint64_t, int item) { return item == 0; }, 1000) == 1);
  CHECK(s.reschedule_if([](std::int64_t, std::uint64_t arrival, int) { return arrival == 4; }, 50) == 1);
  out.clear();
  CHECK(s.pop_due(2000, out, 100) == 3);
  CHECK(out == std::vector{4, 2, 0});
}

TEST_CASE("delay schedule: a limit splits a burst; random due times come out sorted") {
  delay_schedule<std::int64_t> s;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::int64_t due = static_cast<std::int64_t>(rng() % 5000);
    s.push(due, due);
  }
  std::vector<std::int64_t> out;
  CHECK(s.pop_due(5000, out, 60000) == 60000);
  CHECK(s.pop_due(5000, out, 60000) == 40000);
  CHECK(std::is_sorted(out.begin(), out.end()));
}

TEST_CASE("delay schedule: delays of years do not overflow") {
  delay_schedule<int> s;
  const std::int64_t now = 1'800'000'000'000;  // 2027, in ms
  const std::int64_t year = 366LL * 24 * 3600 * 1000;
  s.push(now + 10 * year, 2);
  s.push(now + year, 1);
  std::vector<int> out;
  CHECK(s.pop_due(now + year - 1, out, 10) == 0);
  CHECK(s.pop_due(now + year, out, 10) == 1);
  CHECK(s.next_due() == now + 10 * year);
}

TEST_CASE("delayed delivery: x-delay header as the plugin reads it") {
  CHECK(delayed_delivery::delay_of(*with_delay(std::nullopt)) == 0);
  CHECK(delayed_delivery::delay_of(*with_delay(std::int32_t{1500})) == 1500);
  CHECK(delayed_delivery::delay_of(*with_delay(std::int64_t{-5})) == -5);
  CHECK(delayed_delivery::delay_of(*with_delay(std::int16_t{7})) == 7);
  CHECK(delayed_delivery::delay_of(*with_delay("1000")) == 0);  // not an integer: no delay
  const std::int64_t year = 366LL * 24 * 3600 * 1000;
  CHECK(delayed_delivery::delay_of(*with_delay(std::int64_t{year})) == year);
  CHECK(delayed_delivery::delay_of(*with_delay(std::int64_t{INT64_MAX})) > 0);  // clamped, not wrapped
}

TEST_CASE("delayed delivery: held messages reach their queues when due, in due order") {
  vhost v("/");
  queue& a = *v.declare_queue("a", {}, false, 1).q;
  queue& b = *v.declare_queue("b", {}, false, 1).q;
  delayed_delivery& d = v.delays();
  std::int64_t now = delayed_delivery::now_ms();
  CHECK_FALSE(d.hold(with_delay(std::int32_t{2000}, "late"), {&a, &b}, 2000, {}));
  CHECK_FALSE(d.hold(with_delay(std::int32_t{1000}, "early"), {&a}, 1000, {}));
  CHECK(d.pending() == 2);
  CHECK(d.release_due(now + 500) == 0);
  CHECK(a.ready_count() == 0);
  CHECK(d.release_due(now + 1500 + 100) == 1);
  CHECK(a.ready_count() == 1);
  CHECK(b.ready_count() == 0);
  CHECK(d.release_due(now + 2500 + 100) == 1);
  CHECK(a.ready_count() == 2);
  CHECK(b.ready_count() == 1);
  CHECK(a.take()->msg->body == "early");
  CHECK(a.take()->msg->body == "late");
  CHECK(d.pending() == 0);
}

TEST_CASE("delayed delivery: a queue deleted meanwhile is skipped, the others still get the message") {
  vhost v("/");
  queue& a = *v.declare_queue("a", {}, false, 1).q;
  queue* b = v.declare_queue("b", {}, false, 1).q;
  std::int64_t now = delayed_delivery::now_ms();
  v.delays().hold(with_delay(std::int32_t{10}), {&a, b}, 10, {});
  v.delete_queue("b", false, false, 1);
  queue& b2 = *v.declare_queue("b", {}, false, 1).q;  // same name, another queue: not a target
  CHECK(v.delays().release_due(now + 1000) == 1);
  CHECK(a.ready_count() == 1);
  CHECK(b2.ready_count() == 0);
}

TEST_CASE("delayed delivery: which exchanges delay") {
  vhost v("/");
  amqp::field_table delayed_args;
  delayed_args.set("x-delayed-type", "direct");
  exchange& plugin = v.declare_exchange({"d", "x-delayed-message", durability::transient, false, false, delayed_args},
                                        false);
  CHECK(plugin.delays());
  amqp::field_table flag;
  flag.set("x-delayed-exchange", true);
  CHECK(v.declare_exchange({"f", "fanout", durability::transient, false, false, flag}, false).delays());
  CHECK_FALSE(v.declare_exchange({"n", "fanout", durability::transient, false, false, {}}, false).delays());
  // The delayed exchange routes as its x-delayed-type.
  queue& q = *v.declare_queue("q", {}, false, 1).q;
  v.bind_queue("d", "q", "k", {}, 1);
  message m;
  m.routing_key = "k";
  std::vector<queue*> out;
  v.route(plugin, m, out);
  CHECK(out == std::vector{&q});
}
