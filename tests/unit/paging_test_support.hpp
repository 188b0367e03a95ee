// The queue paging tests' fixture: a real (temporary) SQLite paging store
// whose completions run on an io_context the test drives, a consumer that
// records what it got, and messages as a publish builds them.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
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

namespace roost::testing {

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
inline message_ref make_message(std::string body, std::uint8_t priority = 0) {
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

inline std::vector<std::string> bodies(const std::vector<queued_message>& ms) {
  std::vector<std::string> out;
  for (const queued_message& m : ms) out.push_back(m.msg->body);
  return out;
}

// prefix + n for n in [from, to).
inline std::vector<std::string> names(const std::string& prefix, std::uint64_t from, std::uint64_t to) {
  std::vector<std::string> out;
  for (std::uint64_t n = from; n < to; ++n) out.push_back(storage::testing::numbered(prefix, n));
  return out;
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

}  // namespace roost::testing
