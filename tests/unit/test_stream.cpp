// Streams (broker/stream): the argument checks with RabbitMQ's texts, the
// log's offsets, segments, retention and tail, and readers over a real
// (temporary) durable store: each reader from its own offset, in batches
// read back from the store, filters, timestamps, credit, tracked offsets,
// and the same stream after the store is reopened. Store completions run
// on the test's thread (queued_poster); the tests wait for them, not for time.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"
#include "broker/expiry/wall_clock.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/publish/enqueue.hpp"
#include "broker/queue/queue.hpp"
#include "broker/stream/chunk_cache.hpp"
#include "broker/stream/stream.hpp"
#include "broker/stream/stream_arguments.hpp"
#include "broker/stream/stream_log.hpp"
#include "storage/store.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost;

namespace {

constexpr std::string_view what = "queue 'st' in vhost '/'";

// The reply text after "PRECONDITION_FAILED - ", or "" when f is not refused.
std::string refusal(auto&& f) {
  try {
    f();
  } catch (const channel_error& e) {
    std::string text = e.what();
    return text.substr(text.find(" - ") + 3);
  }
  return "";
}

amqp::field_table table(std::initializer_list<std::pair<std::string, amqp::field_value>> entries) {
  amqp::field_table t;
  for (auto& [k, v] : entries) t.set(k, v);
  return t;
}

message_ref make_message(std::string body, std::optional<std::string> filter = std::nullopt) {
  auto m = std::make_shared<message>();
  amqp::basic_properties props;
  props.delivery_mode = 2;
  if (filter) props.headers = table({{std::string(filter_value_header), *filter}});
  amqp::wire_writer w(m->properties);
  amqp::encode_properties(w, props);
  m->routing_key = "st";
  m->body = std::move(body);
  m->delivery_mode = 2;
  return m;
}

// A consumer with `credit` unacked deliveries at most; ack() gives one back.
struct fake_consumer final : consumer {
  std::size_t credit = 1000;
  std::size_t unacked = 0;
  std::vector<queued_message> got;

  bool can_take() const override { return unacked < credit; }
  void deliver(queue&, queued_message&& m) override {
    ++unacked;
    got.push_back(std::move(m));
  }
  void queue_deleted(queue&) override {}
  bool exclusive() const override { return false; }
  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const queued_message& m : got) out.push_back(m.msg->body);
    return out;
  }
};

std::vector<std::string> numbered(std::uint64_t from, std::uint64_t to) {
  std::vector<std::string> out;
  for (std::uint64_t n = from; n < to; ++n) out.push_back(storage::testing::numbered("m", n));
  return out;
}

queue_options stream_options(amqp::field_table extra = {}) {
  extra.set("x-queue-type", "stream");
  return queue_options{durability::durable, false, false, std::move(extra), 0};
}

stream_consumer_options from(stream_start::kind k, std::uint64_t offset = 0) {
  stream_consumer_options o;
  o.start.from = k;
  o.start.offset = offset;
  o.start_given = true;
  return o;
}

// A durable store in a temp dir and a stream queue over it, reopenable.
struct stream_fixture {
  storage::testing::store_fixture store;
  storage_context storage;
  std::unique_ptr<queue> q;

  explicit stream_fixture(amqp::field_table args = {}) {
    storage.durable = store.s.get();
    q = std::make_unique<queue>(1, "st", stream_options(std::move(args)), queue_services{&storage, 100, nullptr});
    store.run({storage::put_queue{storage::queue_record{q->store_id(), "/", "st", false, ""}}});
  }
  stream& s() { return *q->as_stream(); }

  void publish(const std::vector<std::string>& bodies) {
    for (const std::string& b : bodies) {
      auto msg = make_message(b);
      auto copy = std::make_shared<message>(*msg);
      copy->store_id = storage.next_message_id++;
      std::vector<queue*> targets{q.get()};
      enqueue_routed(storage, copy, targets, [](std::uint32_t) { return storage::completion{}; });
    }
    store.run({});  // everything before this is committed
  }
  // Lets loads in flight finish until the consumer has n messages.
  void wait_for(const fake_consumer& c, std::size_t n) {
    REQUIRE(store.poster.drain_until([&] { return c.got.size() >= n; }));
  }
  // Closes the store and opens it again (after `between` ran on the closed
  // file), with a new queue restored from it.
  void reopen(const std::function<void(const std::filesystem::path&)>& between = {}) {
    q.reset();
    store.close();
    if (between) between(store.file());
    store.open();
    storage.durable = store.s.get();
    REQUIRE(store.state.queues.size() == 1);
    const storage::queue_summary& summary = store.state.queues.front();
    q = std::make_unique<queue>(1, "st", stream_options(), queue_services{&storage, 100, nullptr});
    q->restore(summary);
  }
};

}  // namespace

TEST_CASE("declare checks: the type, server-named, unsupported arguments, then the flags") {
  CHECK(parse_queue_type({}, what) == queue_type::classic);
  CHECK(parse_queue_type(table({{"x-queue-type", "stream"}}), what) == queue_type::stream);
  CHECK(refusal([] { parse_queue_type(table({{"x-queue-type", "foo"}}), what); }) ==
        "invalid arg 'x-queue-type' for queue 'st' in vhost '/': \"unsupported queue type 'foo'\"");
  CHECK(refusal([] { parse_queue_type(table({{"x-queue-type", std::int32_t{1}}}), what); }) ==
        "invalid arg 'x-queue-type' for queue 'st' in vhost '/': {unacceptable_type,signedint}");
  auto check = [](queue_type t, amqp::field_table args, bool server_named, bool durable, bool exclusive,
                  bool auto_delete) {
    return refusal([&] { check_new_queue_of_type(t, args, server_named, durable, exclusive, auto_delete, what); });
  };
  CHECK(check(queue_type::stream, {}, true, true, false, false) ==
        "Cannot declare a server-named queue for type rabbit_stream_queue");
  CHECK(check(queue_type::stream, table({{"x-foo", 1}, {"x-overflow", "x"}, {"x-message-ttl", 1}}), false, false,
              false, false) == "invalid arg 'x-overflow' for queue 'st' in vhost '/' of queue type rabbit_stream_queue");
  CHECK(check(queue_type::classic, table({{"x-max-age", "1h"}}), false, true, false, false) ==
        "invalid arg 'x-max-age' for queue 'st' in vhost '/' of queue type rabbit_classic_queue");
  CHECK(check(queue_type::stream, {}, false, false, true, true) ==
        "invalid property 'auto-delete' for queue 'st' in vhost '/'");
  CHECK(check(queue_type::quorum, {}, false, false, true, false) ==
        "invalid property 'exclusive-owner' for queue 'st' in vhost '/'");
  CHECK(check(queue_type::stream, {}, false, false, false, false) ==
        "invalid property 'non-durable' for queue 'st' in vhost '/'");
  CHECK(check(queue_type::stream, table({{"x-max-age", "1h"}}), false, true, false, false).empty());
  CHECK(check(queue_type::classic, {}, true, false, true, true).empty());
}

TEST_CASE("stream arguments: ages, sizes and their refusals") {
  CHECK(parse_age("7D") == 7 * 86400000LL);
  CHECK(parse_age("12h") == 12 * 3600000LL);
  CHECK(parse_age("30m") == 30 * 60000LL);
  CHECK(parse_age("10s") == 10000);
  CHECK(parse_age("1M") == 30 * 86400000LL);
  CHECK(parse_age("1Y") == 365 * 86400000LL);
  for (const char* bad : {"10", "0s", "1.5h", "1d", "10S", "abc", "", "-1s", "99999999999999999999s"})
    CHECK_MESSAGE(!parse_age(bad), bad);
  stream_arguments a = parse_stream_arguments(
      table({{"x-max-age", "1h"}, {"x-max-length-bytes", 20000}, {"x-stream-max-segment-size-bytes", 5000}}), what);
  CHECK(a.max_age_ms == 3600000);
  CHECK(a.max_length_bytes == 20000);
  CHECK(a.max_segment_size_bytes == 5000);
  CHECK(parse_stream_arguments({}, what).max_segment_size_bytes == default_segment_size_bytes);
  CHECK(refusal([] { parse_stream_arguments(table({{"x-max-age", "10"}}), what); }) ==
        "invalid arg 'x-max-age' for queue 'st' in vhost '/': invalid_max_age");
  CHECK(refusal([] { parse_stream_arguments(table({{"x-max-length-bytes", -1}}), what); }) ==
        "invalid arg 'x-max-length-bytes' for queue 'st' in vhost '/': {value_negative,-1}");
  CHECK(refusal([] { parse_stream_arguments(table({{"x-stream-max-segment-size-bytes", 3000000001LL}}), what); }) ==
        "Exceeded max value for x-stream-max-segment-size-bytes");
}

TEST_CASE("x-stream-offset: first, last, next, numbers, timestamps, intervals, and refusals") {
  auto start = [](amqp::field_value v) {
    return parse_stream_consumer_options(table({{"x-stream-offset", v}}), 1'000'000, what).start;
  };
  CHECK(parse_stream_consumer_options({}, 0, what).start.from == stream_start::kind::next);
  CHECK(!parse_stream_consumer_options({}, 0, what).start_given);
  CHECK(start("first").from == stream_start::kind::first);
  CHECK(start("last").from == stream_start::kind::last);
  CHECK(start(std::int8_t{5}).offset == 5);
  CHECK(start(std::int64_t{-3}).offset == 0);
  CHECK(start(amqp::timestamp_value{7}).timestamp_ms == 7000);
  CHECK(start("10s").timestamp_ms == 1'000'000 - 10'000);
  CHECK(refusal([&] { start("10"); }) ==
        "invalid arg 'x-stream-offset' for queue 'st' in vhost '/': {invalid_stream_offset_arg,{longstr,<<\"10\">>}}");
  CHECK(refusal([&] { start(true); }) ==
        "invalid arg 'x-stream-offset' for queue 'st' in vhost '/': {invalid_stream_offset_arg,{bool}}");
  stream_consumer_options o = parse_stream_consumer_options(
      table({{"x-stream-filter", amqp::field_array{"a", "b"}}, {"x-stream-match-unfiltered", true},
             {"x-stream-automatic-offset-tracking", true}}),
      0, what);
  CHECK(o.filter == std::vector<std::string>{"a", "b"});
  CHECK(o.match_unfiltered);
  CHECK(o.track_offsets);
  CHECK(parse_stream_consumer_options(table({{"x-stream-filter", "a"}}), 0, what).filter ==
        std::vector<std::string>{"a"});
}

TEST_CASE("the log: offsets, segments closed by size, retention of whole segments, the tail") {
  stream_log log(3, 1 << 20);
  for (int i = 0; i < 10; ++i) {
    stream_log::appended a = log.append(make_message(std::string(100, 'x')), 1000 + i, 250);
    CHECK(a.record.offset == static_cast<std::uint64_t>(i));
    CHECK(a.starts_segment == (i % 2 == 0));  // two 100-byte messages per 250-byte segment
  }
  CHECK(log.segments().size() == 5);
  CHECK(log.message_count() == 10);
  CHECK(log.bytes() == 1000);
  CHECK(log.in_memory(6) == nullptr);  // only the last three stay in memory
  REQUIRE(log.in_memory(7) != nullptr);
  CHECK(log.in_memory(7)->offset == 7);
  CHECK(log.resolve({stream_start::kind::first}) == 0);
  CHECK(log.resolve({stream_start::kind::last}) == 9);
  CHECK(log.resolve({stream_start::kind::next}) == 10);
  CHECK(log.resolve({stream_start::kind::offset, 42}) == 42);  // waits until it exists
  CHECK(log.resolve({stream_start::kind::timestamp_ms, 0, 1005}) == 4);  // the segment holding 1005

  stream_arguments by_size;
  by_size.max_length_bytes = 450;
  CHECK(log.retain(by_size, 0) == 3);  // 1000 bytes down to 400: whole segments only
  CHECK(log.first_offset() == 6);
  CHECK(log.message_count() == 4);
  stream_arguments by_age;
  by_age.max_age_ms = 1;
  CHECK(log.retain(by_age, 5000) == 1);  // everything is old, but the newest segment stays
  CHECK(log.first_offset() == 8);
  CHECK(log.resolve({stream_start::kind::offset, 2}) == 8);
}

TEST_CASE("append times never go back, and an empty stream starts everyone at 0") {
  stream_log log(0, 0);
  CHECK(log.resolve({stream_start::kind::last}) == 0);
  CHECK(log.resolve({stream_start::kind::first}) == 0);
  CHECK(log.append(make_message("a"), 5000, 100).record.appended_at_ms == 5000);
  CHECK(log.append(make_message("b"), 4000, 100).record.appended_at_ms == 5000);
}

TEST_CASE("readers read from their own offsets, through the store and the tail, with credit") {
  stream_fixture f;
  f.publish(numbered(0, 6000));  // more than the in-memory tail
  fake_consumer all, middle, live;
  all.credit = 10000;
  middle.credit = 10;
  f.s().attach(&all, "all", from(stream_start::kind::first));
  f.s().attach(&middle, "middle", from(stream_start::kind::offset, 3000));
  f.s().attach(&live, "live", from(stream_start::kind::next));
  for (fake_consumer* c : {&all, &middle, &live}) f.q->add_consumer(c);
  f.wait_for(all, 6000);
  CHECK(all.bodies() == numbered(0, 6000));
  f.wait_for(middle, 10);
  CHECK(middle.bodies() == numbered(3000, 3010));  // no credit for more
  CHECK(middle.got.front().seq == seq_of(3000));
  CHECK(live.got.empty());
  middle.unacked = 0;
  f.q->dispatch();
  f.wait_for(middle, 20);
  CHECK(middle.bodies() == numbered(3000, 3020));
  f.publish({"new"});
  CHECK(live.bodies() == std::vector<std::string>{"new"});
  CHECK(all.got.back().msg->body == "new");
  CHECK(f.q->ready_count() == 6001);
}

TEST_CASE("filters deliver exactly the matching values, unfiltered ones only when asked") {
  stream_fixture f;
  std::vector<queue*> targets{f.q.get()};
  for (auto [body, value] : std::vector<std::pair<std::string, std::optional<std::string>>>{
           {"a1", "a"}, {"b1", "b"}, {"none", std::nullopt}, {"c1", "c"}, {"a2", "a"}})
    enqueue_routed(f.storage, make_message(body, value), targets, [](std::uint32_t) { return storage::completion{}; });
  f.store.run({});
  fake_consumer only_a, a_or_c_and_unfiltered;
  stream_consumer_options o = from(stream_start::kind::first);
  o.filter = {"a"};
  f.s().attach(&only_a, "a", o);
  o.filter = {"a", "c"};
  o.match_unfiltered = true;
  f.s().attach(&a_or_c_and_unfiltered, "ac", o);
  f.q->add_consumer(&only_a);
  f.q->add_consumer(&a_or_c_and_unfiltered);
  CHECK(only_a.bodies() == std::vector<std::string>{"a1", "a2"});
  CHECK(a_or_c_and_unfiltered.bodies() == std::vector<std::string>{"a1", "none", "c1", "a2"});
}

TEST_CASE("a tracked offset is stored, resumed after, and survives reopening the store") {
  stream_fixture f;
  f.publish(numbered(0, 20));
  fake_consumer first;
  stream_consumer_options tracked = from(stream_start::kind::first);
  tracked.track_offsets = true;
  f.s().attach(&first, "worker", tracked);
  f.q->add_consumer(&first);
  REQUIRE(first.got.size() == 20);
  f.s().acked(&first, 4);
  f.s().acked(&first, 7);
  f.s().acked(&first, 6);  // out of order: the highest counts
  f.q->flush_writes();
  CHECK(f.s().tracked_offsets().at("worker") == 7);
  f.q->remove_consumer(&first);
  f.store.run({});

  f.reopen();
  CHECK(f.s().tracked_offsets().at("worker") == 7);
  CHECK(f.q->ready_count() == 20);
  fake_consumer again;
  stream_consumer_options resume;
  resume.track_offsets = true;  // no x-stream-offset: after the tracked one
  f.s().attach(&again, "worker", resume);
  f.q->add_consumer(&again);
  f.wait_for(again, 12);
  CHECK(again.bodies() == numbered(8, 20));
}

TEST_CASE("retention removes whole segments from the store too, and reopening keeps the rest") {
  amqp::field_table args;
  args.set("x-max-length-bytes", std::int64_t{250});
  args.set("x-stream-max-segment-size-bytes", std::int64_t{100});
  stream_fixture f(args);
  f.publish(std::vector<std::string>(10, std::string(40, 'x')));  // two per segment
  std::uint64_t first = f.s().log().first_offset();
  CHECK(first > 0);
  CHECK(first % 2 == 0);
  CHECK(f.s().log().bytes() <= 250 + 80);
  f.reopen();
  CHECK(f.s().log().first_offset() == first);
  CHECK(f.s().log().next_offset() == 10);
  CHECK(f.store.state.queues.front().segments.size() == f.s().log().segments().size());
  fake_consumer reader;
  f.s().attach(&reader, "r", from(stream_start::kind::first));
  f.q->add_consumer(&reader);
  f.wait_for(reader, 10 - first);
  CHECK(reader.got.front().seq == seq_of(first));
}

TEST_CASE("a stream whose segment rows are gone still appends after its last entry") {
  stream_fixture f;
  f.publish(numbered(0, 10));
  f.reopen([](const std::filesystem::path& file) {
    storage::sqlite::database db(file.string(), SQLITE_OPEN_READWRITE);
    db.exec("DELETE FROM stream_segments");
  });
  CHECK(f.s().log().first_offset() == 0);
  CHECK(f.s().log().next_offset() == 10);
  f.publish({"after"});  // seq 11: no collision with a stored entry, so the batch commits
  fake_consumer reader;
  f.s().attach(&reader, "r", from(stream_start::kind::first));
  f.q->add_consumer(&reader);
  f.wait_for(reader, 11);
  CHECK(reader.got.back().msg->body == "after");
  CHECK(reader.got.back().seq == seq_of(10));
}

TEST_CASE("a delivery carries x-stream-offset after the message's own headers, from the tail and the store") {
  stream_fixture f;
  f.publish(numbered(0, 5000));
  std::vector<queue*> targets{f.q.get()};
  enqueue_routed(f.storage, make_message("filtered", "v"), targets, [](std::uint32_t) { return storage::completion{}; });
  f.store.run({});
  fake_consumer reader;
  reader.credit = 10000;
  f.s().attach(&reader, "r", from(stream_start::kind::first));
  f.q->add_consumer(&reader);
  f.wait_for(reader, 5001);
  for (std::uint64_t offset : {0u, 4999u}) {  // read back from the store, and from the tail
    amqp::basic_properties props = amqp::decode_properties(reader.got[offset].msg->properties);
    REQUIRE(props.headers);
    CHECK(props.headers->entries.back().value == amqp::field_value(static_cast<std::int64_t>(offset)));
  }
  amqp::basic_properties props = amqp::decode_properties(reader.got[5000].msg->properties);
  REQUIRE(props.headers);
  REQUIRE(props.headers->entries.size() == 2);
  CHECK(props.headers->entries[0].name == filter_value_header);
  CHECK(props.headers->entries[1].name == offset_header);
  CHECK(props.headers->entries[1].value == amqp::field_value(std::int64_t{5000}));
  CHECK(props.delivery_mode == 2);
}

TEST_CASE("browsing reads pages from the store and the tail without a consumer, and changes nothing") {
  stream_fixture f;
  f.publish(numbered(0, 6000));  // the tail holds the newest 4,096
  std::optional<std::vector<stream_record>> page;
  auto into = [&](std::vector<stream_record> records) { page = std::move(records); };
  auto bodies = [&] {
    std::vector<std::string> out;
    for (const stream_record& r : *page) out.push_back(r.msg->body);
    return out;
  };
  f.s().browse(10, 0, 5, into);
  REQUIRE(f.store.poster.drain_until([&] { return page.has_value(); }));
  CHECK(bodies() == numbered(10, 15));
  CHECK(page->front().offset == 10);
  page.reset();
  f.s().browse(5990, 0, 100, into);
  REQUIRE(page.has_value());  // from the tail: at once
  CHECK(bodies() == numbered(5990, 6000));
  page.reset();
  f.s().browse(0, wall_clock_ms() + 60'000, 100, into);  // nothing appended that late
  REQUIRE(f.store.poster.drain_until([&] { return page.has_value(); }));
  CHECK(page->empty());
  CHECK(f.s().readers().empty());
  CHECK(f.q->ready_count() == 6000);
}

TEST_CASE("a stream deleted while a browse waits for the store hands over what it had") {
  stream_fixture f;
  f.publish(numbered(0, 5000));
  std::optional<std::vector<stream_record>> page;
  f.s().browse(0, 0, 100, [&](std::vector<stream_record> records) { page = std::move(records); });
  CHECK_FALSE(page.has_value());  // waits for a load
  f.q.reset();
  REQUIRE(page.has_value());
  CHECK(page->empty());
  f.store.poster.drain();  // the load's completion finds the stream gone
}

TEST_CASE("the chunk cache evicts what every reader has passed first, then the least recently used") {
  auto chunk_of = [](std::uint64_t first, std::uint64_t count) {
    auto records = std::make_shared<std::vector<stream_record>>();
    for (std::uint64_t o = first; o < first + count; ++o) records->push_back(stream_record{make_message("x"), o, 0});
    return stream_chunk(records);
  };
  chunk_cache cache(3, 1u << 20);
  cache.insert(chunk_of(0, 10), 0);
  cache.insert(chunk_of(10, 10), 0);
  cache.insert(chunk_of(20, 10), 0);
  REQUIRE(cache.find(5) != nullptr);  // 0..9 is now the most recently used
  CHECK((*cache.find(15))->front().offset == 10);
  CHECK(cache.find(30) == nullptr);
  // Over the count: 0..9 and 10..19 were used after 20..29, but every reader is past 0..9.
  cache.insert(chunk_of(30, 10), 10);
  CHECK(cache.find(5) == nullptr);
  CHECK(cache.find(25) != nullptr);
  // No chunk behind everyone: the least recently used (10..19) goes.
  cache.insert(chunk_of(40, 10), 0);
  CHECK(cache.find(15) == nullptr);
  CHECK(cache.size() == 3);
  cache.drop_before(40);  // retention
  CHECK(cache.size() == 1);
  CHECK(cache.find(45) != nullptr);
  // The memory bound: one chunk always stays, however big.
  chunk_cache small(10, 1000);
  small.insert(chunk_of(0, 10), 0);
  CHECK(small.size() == 1);
  small.insert(chunk_of(10, 10), 0);
  CHECK(small.size() == 1);
  CHECK(small.find(15) != nullptr);
  small.clear();
  CHECK(small.bytes() == 0);
}
