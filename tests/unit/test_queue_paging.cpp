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

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "amqp/properties.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/queue/queue.hpp"
#include "storage/store.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost;

namespace {

// A consumer that takes up to `credit` messages and records what it got.
struct fake_consumer final : consumer {
  std::size_t credit = 1000;
  std::vector<queued_message> got;

  bool can_take() const override { return got.size() < credit; }
  void deliver(queue&, queued_message&& m) override { got.push_back(std::move(m)); }
  void queue_deleted(queue&) override {}
  bool exclusive() const override { return false; }
};

// A message as a publish builds it: a paged-in message is rebuilt from the
// stored property bytes, so they must be a real encoding.
message_ref make_message(std::string body, std::uint8_t priority = 0) {
  auto m = std::make_shared<message>();
  amqp::basic_properties props;
  if (priority != 0) props.priority = priority;
  amqp::wire_writer w(m->properties);
  amqp::encode_properties(w, props);
  m->routing_key = "q";
  m->body = std::move(body);
  m->priority = priority;
  return m;
}

std::vector<std::string> bodies(const std::vector<queued_message>& ms) {
  std::vector<std::string> out;
  for (const queued_message& m : ms) out.push_back(m.msg->body);
  return out;
}

// prefix + n for n in [from, to).
std::vector<std::string> names(const std::string& prefix, std::uint64_t from, std::uint64_t to) {
  std::vector<std::string> out;
  for (std::uint64_t n = from; n < to; ++n) out.push_back(storage::testing::numbered(prefix, n));
  return out;
}

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

// The broker's scratch store (where transient queues page) in a temp dir,
// posting its completions to an io_context that only the test runs.
struct fixture {
  boost::asio::io_context io;
  // Keeps run_one_for waiting for the writer thread's completions instead
  // of returning because nothing is queued yet.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
  storage::testing::temp_dir dir;
  // Declared after io: closed (its writer joined) while io can still take what it posts.
  std::unique_ptr<storage::store> scratch;
  storage_context storage;

  fixture() {
    std::string error;
    storage::open_options options{dir.str(), "paging.db", storage::sync_mode::off, true};
    scratch = storage::open_sqlite_store(
        options, [this](std::function<void()> f) { boost::asio::post(io, std::move(f)); }, error);
    REQUIRE_MESSAGE(scratch != nullptr, error);
    scratch->recover();
    storage.scratch = scratch.get();
  }

  // For a queue that keeps `window` ready messages in memory, no timers.
  queue_services services(std::size_t window) { return queue_services{&storage, window, nullptr}; }

  // Runs completions until done() holds; false when none came for 10 s
  // (a load that never completes) or too many did (loads that never end).
  template <class predicate>
  bool run_until(predicate done) {
    for (int handlers = 0; !done(); ++handlers)
      if (handlers == 10000 || io.run_one_for(std::chrono::seconds(10)) == 0) return false;
    return true;
  }

  // Lets q's page loads finish, including those that each one starts.
  void settle(const queue& q) { REQUIRE(run_until([&] { return !q.loading(); })); }

  // The bodies of q's entries in the store within one lane, in seq order:
  // what is paged out. Call with no load of q in flight.
  std::vector<std::string> paged(const queue& q, std::size_t lane = 0) {
    auto into = std::make_shared<std::vector<storage::loaded_entry>>();
    int result = -1;
    scratch->submit({storage::load_entries{q.store_id(), storage::lane_base(lane), 1000, into,
                                           storage::lane_base(lane + 1)}},
                    [&result](bool ok) { result = ok ? 1 : 0; });
    REQUIRE(run_until([&] { return result >= 0; }));
    CHECK(result == 1);
    std::vector<std::string> out;
    for (const storage::loaded_entry& e : *into) out.push_back(e.body);
    return out;
  }
};

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
