// The memory alarm: parsing --memory-high-watermark as RabbitMQ's
// vm_memory_high_watermark, the limit it sets, when the broker raises and
// clears the alarm, and how a publishing connection is told
// (connection.blocked "low on memory", then connection.unblocked).
#include <doctest/doctest.h>

#include "broker/model/broker.hpp"
#include "broker/model/memory_watermark.hpp"
#include "broker/protocol/connection.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;
using namespace roost::test;

namespace {

constexpr std::uint64_t gib = 1024ull * 1024 * 1024;

memory_watermark absolute(std::uint64_t bytes) { return {memory_watermark::kind::bytes, 0, bytes}; }

config with_watermark(memory_watermark w) {
  config cfg;
  cfg.memory_high_watermark = w;
  cfg.disk_free_limit = 0;
  return cfg;
}

// A guest login from a client that understands connection.blocked, then channel 1.
void open_blocking_aware(connection& c) {
  amqp::connection_start_ok start_ok;
  start_ok.mechanism = "PLAIN";
  start_ok.response.value = std::string("\0guest\0guest", 12);
  amqp::field_table caps;
  caps.set("connection.blocked", true);
  start_ok.client_properties.set("capabilities", caps);
  for (const std::string& piece :
       {std::string(amqp::protocol_header), method_frame(0, start_ok),
        method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}),
        method_frame(0, amqp::connection_open{"/", "", false}), method_frame(1, amqp::channel_open{}),
        method_frame(1, amqp::queue_declare{0, "q", false, false, false, false, false, {}})})
    REQUIRE(c.consume(piece) == piece.size());
  drain(c);
}

}  // namespace

TEST_CASE("--memory-high-watermark: a fraction of RAM up to 1, else bytes, with RabbitMQ's units") {
  auto fraction = parse_memory_watermark("0.4");
  REQUIRE(fraction);
  CHECK(fraction->how == memory_watermark::kind::fraction_of_ram);
  CHECK(fraction->limit(10 * gib) == 4 * gib);
  CHECK(parse_memory_watermark("1")->limit(10 * gib) == 10 * gib);
  CHECK(parse_memory_watermark("0")->limit(10 * gib) == 0);  // RabbitMQ's way to block every publisher

  CHECK(parse_memory_watermark("2GiB")->limit(10 * gib) == 2 * gib);
  CHECK(parse_memory_watermark("2G")->limit(10 * gib) == 2 * gib);
  CHECK(parse_memory_watermark("512MiB")->limit(10 * gib) == 512ull * 1024 * 1024);
  CHECK(parse_memory_watermark("100k")->limit(10 * gib) == 102400);
  CHECK(parse_memory_watermark("2GB")->limit(10 * gib) == 2'000'000'000);
  CHECK(parse_memory_watermark("500MB")->limit(10 * gib) == 500'000'000);
  CHECK(parse_memory_watermark("100kB")->limit(10 * gib) == 100'000);
  CHECK(parse_memory_watermark("123456789")->limit(10 * gib) == 123456789);
  // As RabbitMQ: an absolute watermark above the machine's RAM is the RAM.
  CHECK(parse_memory_watermark("64GiB")->limit(10 * gib) == 10 * gib);

  for (const char* bad : {"", "1.5", "-0.1", "2XB", "GiB", "2 GiB", "0.4GiB", "nan", "99999999999999999999GiB"})
    CHECK_MESSAGE(!parse_memory_watermark(bad), bad);
}

TEST_CASE("the memory alarm is raised above the limit and cleared below it, with the reason 'low on memory'") {
  broker b{with_watermark(absolute(100 * 1024 * 1024))};
  std::uint64_t limit = b.memory_limit();
  REQUIRE(limit == 100 * 1024 * 1024);
  CHECK_FALSE(b.check_memory(limit));  // at the mark is not over it
  CHECK_FALSE(b.publish_alarm());
  CHECK(b.check_memory(limit + 1));
  CHECK(b.memory_alarm());
  CHECK(b.memory_used() == limit + 1);
  CHECK(b.publish_alarm());
  CHECK(std::string(b.alarm_reason()) == "low on memory");
  CHECK_FALSE(b.check_memory(limit - 1));
  CHECK_FALSE(b.publish_alarm());
}

TEST_CASE("a publishing connection is blocked by the memory alarm and unblocked when it clears") {
  broker b{with_watermark(absolute(100 * 1024 * 1024))};
  recorded_events publisher_events, consumer_events;
  connection publisher{b, publisher_events, "127.0.0.1:1", true};
  connection consumer{b, consumer_events, "127.0.0.1:2", true};
  open_blocking_aware(publisher);
  open_blocking_aware(consumer);
  std::string three = publishes("q", 3);
  REQUIRE(publisher.consume(three) == three.size());
  drain(publisher);

  b.check_memory(b.memory_limit() + 1);
  CHECK(publisher.should_pause_reading());
  CHECK(publisher.blocked());
  auto frames = drain(publisher);
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0].method_key() == amqp::connection_blocked::id.key());
  CHECK(frames[0].method<amqp::connection_blocked>().reason == "low on memory");
  // A connection that never published keeps being read: consumers drain the queues.
  CHECK_FALSE(consumer.should_pause_reading());
  CHECK(drain(consumer).empty());

  b.check_memory(b.memory_limit() - 1);
  CHECK_FALSE(publisher.should_pause_reading());
  frames = drain(publisher);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].method_key() == amqp::connection_unblocked::id.key());
}
