// Publisher confirms of persistent messages in durable queues: sent after
// the store commits, or earlier once every stored copy has been acked by a
// consumer (never twice); nacked when the commit fails.
#include <doctest/doctest.h>

#include <functional>

#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;
using namespace roost::test;

namespace {

// A store that holds every submission until the test decides how it ends.
struct held_store final : storage::store {
  std::vector<storage::completion> waiting;
  storage::recovered_state recover() override { return {}; }
  void submit(std::vector<storage::operation>, storage::completion done) override {
    if (done) waiting.push_back(std::move(done));
  }
  std::size_t backlog() const override { return waiting.size(); }
  void close() override {}
  void finish_all(bool ok) {
    auto all = std::move(waiting);
    waiting.clear();
    for (auto& f : all) f(ok);
  }
};

struct fixture {
  held_store store;
  broker b{config{}, storage_context{&store, &store}};
  recorded_events events;
  connection c{b, events, "127.0.0.1:1", true};

  void feed(const std::string& bytes) { REQUIRE(c.consume(bytes) == bytes.size()); }

  fixture() {
    feed(std::string(amqp::protocol_header));
    amqp::connection_start_ok start_ok;
    start_ok.mechanism = "PLAIN";
    start_ok.response.value = std::string("\0guest\0guest", 12);
    feed(method_frame(0, start_ok));
    feed(method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}));
    feed(method_frame(0, amqp::connection_open{"/", "", false}));
    feed(method_frame(1, amqp::channel_open{}));
    feed(method_frame(1, amqp::confirm_select{}));
    feed(method_frame(1, amqp::queue_declare{0, "durable", false, true, false, false, false, {}}));
    drain(c);
  }

  void publish_persistent() {
    amqp::basic_properties props;
    props.delivery_mode = 2;
    std::string raw;
    amqp::wire_writer w(raw);
    amqp::encode_properties(w, props);
    std::string frames = method_frame(1, amqp::basic_publish{0, "", "durable", false, false});
    amqp::append_content_header(frames, 1, 5, raw);
    amqp::append_body_frames(frames, 1, "hello", 131072);
    feed(frames);
  }

  // Confirms (basic.ack from the broker) among the frames sent since last asked.
  std::vector<amqp::basic_ack> confirms() {
    std::vector<amqp::basic_ack> acks;
    for (auto& f : drain(c))
      if (f.method_key() == amqp::basic_ack::id.key()) acks.push_back(f.method<amqp::basic_ack>());
    return acks;
  }

  std::size_t nacks() {
    std::size_t n = 0;
    for (auto& f : drain(c)) n += f.method_key() == amqp::basic_nack::id.key();
    return n;
  }
};

}  // namespace

TEST_CASE("a persistent message is confirmed only when its commit completes") {
  fixture f;
  f.publish_persistent();
  CHECK(f.confirms().empty());
  f.store.finish_all(true);
  auto acks = f.confirms();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].delivery_tag == 1);
}

TEST_CASE("a failed commit nacks the publish") {
  fixture f;
  f.publish_persistent();
  f.store.finish_all(false);
  CHECK(f.nacks() == 1);
}

TEST_CASE("a consumer's ack confirms before the commit, and the commit does not confirm again") {
  fixture f;
  f.feed(method_frame(1, amqp::basic_consume{0, "durable", "c1", false, false, false, false, {}}));
  f.publish_persistent();
  bool delivered = false;
  for (auto& frame : drain(f.c)) delivered |= frame.method_key() == amqp::basic_deliver::id.key();
  REQUIRE(delivered);
  f.feed(method_frame(1, amqp::basic_ack{1, false}));
  auto acks = f.confirms();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].delivery_tag == 1);
  f.store.finish_all(true);
  CHECK(f.confirms().empty());
}

TEST_CASE("a requeue does not count as settled: the confirm still waits for the commit") {
  fixture f;
  f.feed(method_frame(1, amqp::basic_consume{0, "durable", "c1", false, false, false, false, {}}));
  f.publish_persistent();
  drain(f.c);
  f.feed(method_frame(1, amqp::basic_cancel{"c1", false}));
  f.feed(method_frame(1, amqp::basic_nack{1, false, true}));
  CHECK(f.confirms().empty());
  f.store.finish_all(true);
  CHECK(f.confirms().size() == 1);
}
