// The connection's protocol logic without a socket: handshake, negotiation,
// channel life cycle, the error paths for malformed input, and when a
// publisher is paused by a queue's flow control.
#include <doctest/doctest.h>

#include "amqp/frame.hpp"
#include "broker/flow/publisher_flow.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;

namespace {

using namespace roost::test;

struct fixture {
  broker b{config{}};
  recorded_events events;
  connection c{b, events, "127.0.0.1:1", true};

  void feed(const std::string& bytes) { REQUIRE(c.consume(bytes) == bytes.size()); }

  void handshake() {
    for (const std::string& piece : guest_login(c.current_state() == connection::state::awaiting_header)) feed(piece);
    drain(c);
    REQUIRE(c.current_state() == connection::state::open);
  }

  // Expects connection.close with `code` as the last frame sent.
  void expect_connection_close(std::uint16_t code) {
    auto frames = drain(c);
    REQUIRE_FALSE(frames.empty());
    REQUIRE(frames.back().method_key() == amqp::connection_close::id.key());
    CHECK(frames.back().method<amqp::connection_close>().reply_code == code);
  }
};

}  // namespace

TEST_CASE("a wrong protocol header is answered with ours and the connection closes") {
  fixture f;
  f.feed("HTTP/1.1");
  CHECK(f.c.outbound().flatten() == std::string(amqp::protocol_header));
  CHECK(f.events.closed);
}

TEST_CASE("handshake: start, tune with RabbitMQ's limits, open") {
  fixture f;
  f.feed(std::string(amqp::protocol_header));
  auto frames = drain(f.c);
  REQUIRE(frames.size() == 1);
  auto start = frames[0].method<amqp::connection_start>();
  CHECK(start.mechanisms.value == "PLAIN AMQPLAIN");
  auto* caps = start.server_properties.find("capabilities");
  REQUIRE(caps);
  CHECK(caps->get_if<amqp::field_table>()->find("publisher_confirms"));
  f.handshake();
  CHECK(f.c.user() == "guest");
}

amqp::connection_start_ok login(std::string password, bool wants_failure_close) {
  amqp::connection_start_ok start_ok;
  start_ok.mechanism = "PLAIN";
  start_ok.response.value = std::string("\0guest\0", 7) + password;
  amqp::field_table caps;
  caps.set("authentication_failure_close", wants_failure_close);
  start_ok.client_properties.set("capabilities", caps);
  return start_ok;
}

TEST_CASE("bad credentials: 403 for clients that ask for it, a dropped socket for others") {
  fixture f;
  f.feed(std::string(amqp::protocol_header));
  f.feed(method_frame(0, login("wrong", true)));
  auto frames = drain(f.c);
  REQUIRE(frames.back().method_key() == amqp::connection_close::id.key());
  auto close = frames.back().method<amqp::connection_close>();
  CHECK(close.reply_code == 403);
  CHECK(close.class_id == 0);

  fixture quiet;
  quiet.feed(std::string(amqp::protocol_header));
  drain(quiet.c);
  quiet.feed(method_frame(0, login("wrong", false)));
  CHECK(drain(quiet.c).empty());
  CHECK(quiet.events.closed);
}

TEST_CASE("guest may not log in from a remote address") {
  broker b{config{}};
  recorded_events events;
  connection c{b, events, "10.0.0.1:1", false};
  c.consume(std::string(amqp::protocol_header));
  drain(c);
  c.consume(method_frame(0, login("guest", true)));
  auto frames = drain(c);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].method<amqp::connection_close>().reply_code == 403);
}

TEST_CASE("tune-ok above the server's frame_max drops the connection without a close, as RabbitMQ") {
  fixture f;
  f.feed(std::string(amqp::protocol_header));
  f.feed(method_frame(0, login("guest", true)));
  drain(f.c);
  f.feed(method_frame(0, amqp::connection_tune_ok{2047, 1 << 20, 0}));
  CHECK(drain(f.c).empty());
  CHECK(f.events.closed);
}

TEST_CASE("unknown vhost is 530 NOT_ALLOWED") {
  fixture f;
  f.feed(std::string(amqp::protocol_header));
  amqp::connection_start_ok start_ok;
  start_ok.mechanism = "PLAIN";
  start_ok.response.value = std::string("\0guest\0guest", 12);
  f.feed(method_frame(0, start_ok));
  f.feed(method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}));
  f.feed(method_frame(0, amqp::connection_open{"nope", "", false}));
  f.expect_connection_close(530);
}

TEST_CASE("a bad frame-end octet is 501 and the connection hangs up") {
  fixture f;
  f.handshake();
  std::string frame = method_frame(1, amqp::channel_open{});
  frame.back() = '\x00';
  f.feed(frame);
  f.expect_connection_close(501);
  CHECK(f.events.closed);
}

TEST_CASE("a frame larger than frame_max is 501") {
  fixture f;
  f.handshake();
  std::string header("\x01\x00\x01\x00\x02\x00\x01", 7);  // 131073: one byte over frame_max
  f.feed(header);
  f.expect_connection_close(501);
}

TEST_CASE("an unknown frame type is 501") {
  fixture f;
  f.handshake();
  f.feed(std::string("\x09\x00\x00\x00\x00\x00\x00\xce", 8));
  f.expect_connection_close(501);
}

TEST_CASE("a method on a channel that was never opened is 504") {
  fixture f;
  f.handshake();
  f.feed(method_frame(3, amqp::basic_qos{0, 10, false}));
  f.expect_connection_close(504);
}

TEST_CASE("channel numbers are free, but no more than channel_max may be open (530)") {
  fixture f;
  f.handshake();
  f.feed(method_frame(65535, amqp::channel_open{}));
  CHECK(drain(f.c).back().method_key() == amqp::channel_open_ok::id.key());
  for (std::uint16_t n = 1; n < 2047; ++n) f.feed(method_frame(n, amqp::channel_open{}));
  CHECK(drain(f.c).back().method_key() == amqp::channel_open_ok::id.key());
  f.feed(method_frame(3000, amqp::channel_open{}));
  f.expect_connection_close(530);
}

TEST_CASE("a body frame without a publish is 505") {
  fixture f;
  f.handshake();
  f.feed(method_frame(1, amqp::channel_open{}));
  drain(f.c);
  std::string body;
  amqp::append_body_frames(body, 1, "hello", 131072);
  f.feed(body);
  f.expect_connection_close(505);
}

TEST_CASE("truncated method arguments are 501 FRAME_ERROR, as RabbitMQ") {
  fixture f;
  f.handshake();
  f.feed(method_frame(1, amqp::channel_open{}));
  drain(f.c);
  std::string frame = method_frame(1, amqp::queue_declare{});
  // Cut the arguments short but keep the frame well formed.
  std::string payload = frame.substr(amqp::frame_header_size, 8);
  std::string cut;
  std::size_t at = amqp::begin_frame(cut, amqp::frame_type::method, 1);
  cut.append(payload);
  amqp::end_frame(cut, at);
  f.feed(cut);
  f.expect_connection_close(501);
}

TEST_CASE("a channel error closes only the channel, and its frames are discarded until close-ok") {
  fixture f;
  f.handshake();
  f.feed(method_frame(1, amqp::channel_open{}));
  f.feed(method_frame(1, amqp::queue_declare{0, "missing", true, false, false, false, false, {}}));
  auto frames = drain(f.c);
  REQUIRE(frames.back().method_key() == amqp::channel_close::id.key());
  auto close = frames.back().method<amqp::channel_close>();
  CHECK(close.reply_code == 404);
  CHECK(close.reply_text == "NOT_FOUND - no queue 'missing' in vhost '/'");
  CHECK(close.class_id == 50);
  CHECK(close.method_id == 10);
  f.feed(method_frame(1, amqp::basic_qos{0, 1, false}));  // discarded
  CHECK(drain(f.c).empty());
  f.feed(method_frame(1, amqp::channel_close_ok{}));
  f.feed(method_frame(1, amqp::channel_open{}));
  frames = drain(f.c);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].method_key() == amqp::channel_open_ok::id.key());
  CHECK(f.c.current_state() == connection::state::open);
}

TEST_CASE("connection.close from the client is answered with close-ok") {
  fixture f;
  f.handshake();
  f.feed(method_frame(0, amqp::connection_close{200, "bye", 0, 0}));
  auto frames = drain(f.c);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].method_key() == amqp::connection_close_ok::id.key());
  CHECK(f.events.closed);
}

namespace {

// A second client of the fixture's broker.
struct second_client {
  recorded_events events;
  connection c;
  explicit second_client(broker& b) : c(b, events, "127.0.0.1:2", true) {
    for (const std::string& piece : guest_login(true)) c.consume(piece);
    c.consume(method_frame(1, amqp::channel_open{}));
    drain(c);
  }
};

}  // namespace

TEST_CASE("flow control pauses a publisher into a backed-up consumed queue, not one that consumes it") {
  fixture consumer;
  consumer.handshake();
  consumer.feed(method_frame(1, amqp::channel_open{}));
  consumer.feed(method_frame(1, amqp::queue_declare{0, "work", false, false, false, false, false, {}}));
  consumer.feed(method_frame(1, amqp::basic_qos{0, 1, false}));
  consumer.feed(method_frame(1, amqp::basic_consume{0, "work", "c1", false, false, false, false, {}}));
  drain(consumer.c);
  second_client publisher(consumer.b);
  auto high = publisher_flow::for_window(consumer.b.cfg().queue_window).high;

  publisher.c.consume(publishes("work", static_cast<int>(high)));
  CHECK_FALSE(publisher.c.should_pause_reading());  // one went to the consumer: not past the mark yet
  publisher.c.consume(publishes("work", 2));
  CHECK(publisher.c.should_pause_reading());
  CHECK(publisher.c.in_flow());
  // The consumer's own publishes into the queue it drains are not held: its acks come the same way.
  consumer.feed(publishes("work", 1));
  CHECK_FALSE(consumer.c.should_pause_reading());
  // The queue loses its consumer: the publisher is woken and goes on.
  consumer.feed(method_frame(1, amqp::basic_cancel{"c1", false}));
  CHECK(publisher.events.released == 1);
  CHECK_FALSE(publisher.c.should_pause_reading());
  CHECK_FALSE(publisher.c.in_flow());
}
