// The SQLite store's writer: group commit, completion order and thread,
// max_batch, coalescing within a batch, failed transactions, and what
// recovery of a deep store reads.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <utility>

#include "storage/batch_codec.hpp"
#include "storage/snapshot.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost::storage;
using namespace roost::storage::testing;

namespace {

// A store plus its poster; `hold()` parks the writer inside a commit so a
// test can pile submissions up behind it, as a busy disk would.
struct fixture {
  temp_dir dir;
  queued_poster poster;
  std::promise<void> entered, released;
  std::shared_future<void> release_signal = released.get_future().share();
  std::unique_ptr<store> owner;  // after the promises: closed (writer joined) before they go
  sqlite_store* s = nullptr;

  explicit fixture(std::size_t max_batch = 20000, sync_mode sync = sync_mode::full) {
    open_options options{dir.str()};
    options.max_batch = max_batch;
    options.sync = sync;
    std::string error;
    owner = open_sqlite_store(options, poster.get(), error);
    REQUIRE_MESSAGE(owner != nullptr, error);
    s = dynamic_cast<sqlite_store*>(owner.get());
    REQUIRE(s != nullptr);
    owner->recover();
  }
  ~fixture() {
    if (release_signal.wait_for(std::chrono::seconds(0)) != std::future_status::ready) released.set_value();
  }
  // Submits a batch that stays in its commit until release().
  void hold() {
    s->set_before_commit([this, first = std::make_shared<std::atomic<bool>>(true)] {
      if (first->exchange(false)) {
        entered.set_value();
        release_signal.wait();
      }
      return true;
    });
    s->submit({make_queue(1, "q")}, nullptr);
    entered.get_future().wait();
  }
  void release() { released.set_value(); }
  bool run(std::vector<operation> ops) { return submit_wait(*s, poster, std::move(ops)); }
  // Waits until everything submitted has committed and its completions ran.
  void settle() {
    REQUIRE(poster.drain_until([&] { return s->backlog() == 0; }));
    run({});
  }
  std::int64_t close_and_count(const std::string& table) {
    owner->close();
    return count_rows(dir.path() / "roost.db", table);
  }
};

}  // namespace

TEST_CASE("completions run only through the poster, in submission order, on the draining thread") {
  fixture f;
  std::vector<int> order;
  std::thread::id ran_on;
  for (int i = 0; i < 200; ++i)
    f.s->submit({make_exchange("x", numbered("t", i))}, [&, i](bool ok) {
      CHECK(ok);
      order.push_back(i);
      ran_on = std::this_thread::get_id();
    });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.s->backlog() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(f.s->backlog() == 0);
  CHECK(order.empty());  // committed, posted, but nothing ran before the drain
  CHECK(f.poster.queued() > 0);
  f.poster.drain();
  REQUIRE(order.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  CHECK(ran_on == std::this_thread::get_id());
  f.owner->close();
  queued_poster poster;
  std::string error;
  auto reopened = open_sqlite_store(open_options{f.dir.str()}, poster.get(), error);
  REQUIRE(reopened != nullptr);
  CHECK(reopened->recover().exchanges.at(0).type == "t199");  // applied in submission order too
}

TEST_CASE("submissions made while a commit runs share the next transaction") {
  fixture f;
  f.hold();
  std::vector<bool> results;
  for (std::uint64_t i = 1; i <= 1000; ++i)
    f.s->submit({make_message(i, "0123456789abcdef"), make_entry(1, i, i)}, [&](bool ok) { results.push_back(ok); });
  CHECK(f.s->backlog() == 2001);  // the held batch's operation is not committed yet either
  f.release();
  f.settle();
  CHECK(results == std::vector<bool>(1000, true));
  CHECK(f.s->stats().commits == 3);  // the held batch, all 1000 submissions, settle()'s empty one
}

TEST_CASE("max_batch caps the operations one transaction takes, whole submissions only") {
  fixture f(100);
  f.hold();
  int done = 0;
  for (std::uint64_t i = 1; i <= 500; ++i)
    f.s->submit({make_exchange(numbered("x", i), "direct")}, [&](bool) { ++done; });
  std::vector<operation> big;
  for (int i = 0; i < 250; ++i) big.push_back(make_exchange(numbered("big", i), "direct"));
  f.s->submit(std::move(big), [&](bool ok) { done += ok ? 1000 : 0; });
  f.release();
  f.settle();
  CHECK(done == 1500);
  // 1 held + 500 ops in batches of 100 + the 250-op submission alone + settle's.
  CHECK(f.s->stats().commits == 1 + 5 + 1 + 1);
  CHECK(f.s->stats().operations == 1 + 500 + 250);
}

TEST_CASE("a message acked before its batch commits is never written") {
  fixture f;
  f.hold();
  f.s->submit({make_message(1, "fast ack"), make_entry(1, 1, 1)}, nullptr);  // publish
  f.s->submit({remove_entry{1, 1}}, nullptr);                                 // ack, same batch
  f.release();
  f.settle();
  store_stats stats = f.s->stats();
  CHECK(stats.coalesced == 3);
  CHECK(stats.rows_changed == 1);  // only the held put_queue
  CHECK(f.close_and_count("messages") == 0);
}

TEST_CASE("a message keeps being written while one of its entries remains") {
  fixture f;
  f.run({make_queue(2, "other")});
  auto changes_before = f.s->stats().rows_changed;
  CHECK(f.run({make_message(1, "fanned out"), make_entry(1, 1, 1), make_entry(2, 1, 1), remove_entry{1, 1}}));
  CHECK(f.s->stats().rows_changed - changes_before == 2);  // the message and the entry of queue 2
  CHECK(f.s->stats().coalesced == 2);
  CHECK(f.close_and_count("messages") == 1);
  CHECK(count_rows(f.dir.path() / "roost.db", "entries WHERE queue_id = 2") == 1);
}

TEST_CASE("an update of an entry inserted in the same batch folds into the insert") {
  fixture f;
  CHECK(f.run({make_queue(1, "q"), make_message(1, "b"), make_entry(1, 1, 1),
               update_entry{entry_record{1, 1, 1, 2, true, 99, 7}}}));
  CHECK(f.s->stats().coalesced == 1);
  auto into = std::make_shared<std::vector<loaded_entry>>();
  CHECK(f.run({load_entries{1, 0, 10, into}}));
  REQUIRE(into->size() == 1);
  CHECK(into->at(0).entry == entry_record{1, 1, 1, 2, true, 99, 7});
}

TEST_CASE("load_entries sees every write submitted before it, even in its own batch") {
  fixture f;
  auto into = std::make_shared<std::vector<loaded_entry>>();
  CHECK(f.run({make_queue(1, "q"), make_message(1, "a"), make_entry(1, 1, 1), make_message(2, "b"),
               make_entry(1, 2, 2), load_entries{1, 0, 10, into}, remove_entry{1, 1}}));
  REQUIRE(into->size() == 2);  // the load is a barrier: entry 1 was not coalesced away
  CHECK(into->at(0).body == "a");
  CHECK(into->at(1).body == "b");
  CHECK(f.close_and_count("entries") == 1);
}

TEST_CASE("a failed transaction fails exactly its completions, and the store carries on") {
  fixture f;
  CHECK(f.run({make_queue(1, "q")}));
  std::atomic<int> commit_calls{0};
  f.s->set_before_commit([&] { return ++commit_calls != 2; });  // the second transaction fails
  CHECK(f.run({make_message(1, "kept"), make_entry(1, 1, 1)}));
  auto into = std::make_shared<std::vector<loaded_entry>>();
  CHECK_FALSE(f.run({make_message(2, "lost"), make_entry(1, 2, 2), load_entries{1, 0, 10, into}}));
  CHECK(into->empty());  // a failed read hands back nothing
  CHECK(f.s->stats().failed_transactions == 1);
  CHECK(f.s->stats().last_error.find("full") != std::string::npos);
  CHECK(f.run({make_message(3, "after"), make_entry(1, 3, 3)}));
  CHECK(f.s->backlog() == 0);
  f.owner->close();
  queued_poster poster;
  std::string error;
  auto reopened = open_sqlite_store(open_options{f.dir.str()}, poster.get(), error);
  REQUIRE(reopened != nullptr);
  auto state = reopened->recover();
  CHECK(state.queues.at(0).entry_count == 2);
  CHECK(state.max_message_id == 3);
}

TEST_CASE("an SQLite error rolls back the whole batch, other submissions included") {
  fixture f;
  f.hold();
  std::vector<int> results;
  f.s->submit({make_exchange("innocent", "direct")}, [&](bool ok) { results.push_back(ok); });
  f.s->submit({make_message(1, "a"), make_message(1, "duplicate id")}, [&](bool ok) { results.push_back(ok); });
  f.release();
  f.settle();
  CHECK(results == std::vector<int>{0, 0});
  CHECK(f.s->stats().last_error.find("UNIQUE") != std::string::npos);
  CHECK(f.run({make_exchange("later", "direct")}));
  CHECK(f.close_and_count("exchanges") == 1);
}

TEST_CASE("recovery of a deep store reads summaries without loading entries") {
  // What recovery hands back is per queue and per lane, whatever the depth;
  // the only per-entry data is the few entries with a TTL. The entries stay
  // in the store, to be paged in later by load_entries. (How long recovery
  // takes is for a benchmark, not a unit test that also runs under ASan.)
  constexpr std::uint64_t entries = 200000;
  constexpr std::int64_t far_future_ms = std::int64_t{1} << 50;
  fixture f(20000, sync_mode::off);
  f.run({make_queue(1, "deep"), make_queue(2, "small")});
  std::vector<operation> ops;
  std::vector<std::uint64_t> with_ttl;
  for (std::uint64_t i = 1; i <= entries; ++i) {
    ops.push_back(make_message(i, "0123456789abcdef"));
    insert_entry entry = make_entry(i % 100 == 0 ? 2 : 1, i, i);
    if (i % 10000 == 1) {
      entry.entry.expires_at_ms = far_future_ms + static_cast<std::int64_t>(i);
      with_ttl.push_back(i);
    }
    ops.push_back(entry);
    if (ops.size() == 20000) f.s->submit(std::exchange(ops, {}), nullptr);
  }
  f.settle();
  f.owner->close();
  queued_poster poster;
  std::string error;
  auto reopened = open_sqlite_store(open_options{f.dir.str()}, poster.get(), error);
  REQUIRE(reopened != nullptr);
  auto state = reopened->recover();
  REQUIRE(state.queues.size() == 2);
  const queue_summary& deep = state.queues[0];
  CHECK(deep.entry_count == entries - entries / 100);
  CHECK(deep.max_seq == entries - 1);
  CHECK(deep.body_bytes == deep.entry_count * 16);
  REQUIRE(deep.lanes.size() == 1);  // one summary for the whole queue, not one per entry
  CHECK(deep.lanes[0].lane == 0);
  CHECK(deep.lanes[0].entry_count == deep.entry_count);
  CHECK(deep.lanes[0].max_seq == deep.max_seq);
  REQUIRE(deep.expiring.size() == with_ttl.size());
  for (std::size_t i = 0; i < with_ttl.size(); ++i) {
    CHECK(deep.expiring[i].seq == with_ttl[i]);
    CHECK(deep.expiring[i].expires_at_ms == far_future_ms + static_cast<std::int64_t>(with_ttl[i]));
    CHECK(deep.expiring[i].body_size == 16);
  }
  const queue_summary& small = state.queues[1];
  CHECK(small.entry_count == entries / 100);
  CHECK(small.max_seq == entries);
  CHECK(small.body_bytes == small.entry_count * 16);
  CHECK(small.lanes.size() == 1);
  CHECK(small.expiring.empty());
  CHECK(state.max_message_id == entries);
  // Nothing was consumed or rewritten: the deep queue's first entries load
  // afterwards, in seq order, bodies and all.
  auto into = std::make_shared<std::vector<loaded_entry>>();
  REQUIRE(submit_wait(*reopened, poster, {load_entries{1, 0, 3, into}}));
  REQUIRE(into->size() == 3);
  for (std::uint64_t i = 0; i < 3; ++i) {
    CHECK(into->at(i).entry.seq == i + 1);
    CHECK(into->at(i).body == "0123456789abcdef");
  }
  CHECK(into->at(0).entry.expires_at_ms == far_future_ms + 1);
}

// ---- shipping batches to a cluster's followers ----

TEST_CASE("a leader's batches carry their position, reach the sink encoded, and wait there for their completions") {
  store_fixture f;
  auto* s = dynamic_cast<sqlite_store*>(f.s.get());
  REQUIRE(s != nullptr);
  std::vector<shipped_batch> shipped;
  poster to_test = f.poster.get();
  s->ship_batches(7, 10, [&](shipped_batch b) {
    auto held = std::make_shared<shipped_batch>(std::move(b));
    to_test([&shipped, held] { shipped.push_back(std::move(*held)); });
  });
  int completed = 0;
  s->submit({make_queue(1, "q"), make_message(5, "hello"), make_entry(1, 1, 5)}, [&](bool ok) { completed += ok; });
  REQUIRE(f.poster.drain_until([&] { return shipped.size() == 1; }));
  CHECK(shipped[0].position == batch_position{7, 11});
  CHECK(completed == 0);  // held by the sink until the followers have the batch
  decoded_batch decoded = decode_batch(shipped[0].encoded);
  CHECK(decoded.position == batch_position{7, 11});
  REQUIRE(decoded.ops.size() == 4);
  CHECK(std::get<insert_message>(decoded.ops[1]).content.body == "hello");
  CHECK(std::get<record_position>(decoded.ops[3]).position == batch_position{7, 11});
  for (const completion& done : shipped[0].done) done(true);
  CHECK(completed == 1);

  // A batch that fails takes no position: the next one is 12.
  s->set_before_commit([] { return false; });
  bool failed_ok = true;
  s->submit({remove_entry{1, 1}}, [&](bool ok) { failed_ok = ok; });
  REQUIRE(f.poster.drain_until([&] { return !failed_ok; }));
  CHECK(shipped.size() == 1);
  s->set_before_commit({});
  // Reads alone are not shipped, take no position and are not held.
  auto page = std::make_shared<std::vector<loaded_entry>>();
  bool read = false;
  s->submit({load_entries{1, 0, 10, page, lane_base(1)}}, [&](bool ok) { read = ok; });
  REQUIRE(f.poster.drain_until([&] { return read; }));
  CHECK(page->size() == 1);
  CHECK(shipped.size() == 1);
  s->submit({remove_entry{1, 1}}, {});
  REQUIRE(f.poster.drain_until([&] { return shipped.size() == 2; }));
  CHECK(shipped[1].position == batch_position{7, 12});
  f.reopen();
  CHECK(f.state.position == batch_position{7, 12});
  CHECK(f.state.epoch_starts == std::vector<batch_position>{{7, 11}});
  REQUIRE(f.queue(1) != nullptr);
  CHECK(f.queue(1)->entry_count == 0);
}

TEST_CASE("a follower applies a leader's batch through submit, position included") {
  store_fixture leader, follower;
  auto* s = dynamic_cast<sqlite_store*>(leader.s.get());
  std::vector<std::shared_ptr<const std::string>> encoded;
  poster to_test = leader.poster.get();
  s->ship_batches(3, 0, [&](shipped_batch b) {
    auto bytes = b.encoded;
    for (const completion& done : b.done) to_test([done] { done(true); });
    to_test([&encoded, bytes] { encoded.push_back(bytes); });
  });
  leader.run({make_queue(1, "q"), put_user{{"u", "h", "rabbit_password_hashing_sha256", "", {}, {}}}});
  leader.run({make_message(5, "replicated"), make_entry(1, 1, 5)});
  REQUIRE(leader.poster.drain_until([&] { return encoded.size() == 2; }));
  for (const auto& bytes : encoded) follower.run(decode_batch(bytes).ops);
  follower.reopen();
  CHECK(follower.state.position == batch_position{3, 2});
  REQUIRE(follower.queue(1) != nullptr);
  CHECK(follower.queue(1)->entry_count == 1);
  CHECK(follower.load(1).at(0).body == "replicated");
  REQUIRE(follower.state.users.size() == 1);
  CHECK(follower.state.users[0].name == "u");
}

TEST_CASE("a snapshot of a live store is installed in place of a follower's, position included") {
  store_fixture leader, follower;
  auto* s = dynamic_cast<sqlite_store*>(leader.s.get());
  s->ship_batches(4, 0, [&](shipped_batch b) {
    for (const completion& done : b.done) done(true);  // no followers to wait for
  });
  leader.run({make_queue(1, "q"), make_message(5, "in the snapshot"), make_entry(1, 1, 5)});
  follower.run({make_queue(9, "only on the follower")});  // diverged: the snapshot replaces it all

  std::string copy = (follower.dir.path() / "roost.db.snapshot").string();
  snapshot_taken taken = take_snapshot(leader.file().string(), copy);  // the leader's store still open
  REQUIRE_FALSE(taken.error);
  CHECK(taken.position == batch_position{4, 1});
  CHECK(taken.size == std::filesystem::file_size(copy));

  follower.close();
  REQUIRE_FALSE(install_snapshot(follower.dir.str(), "roost.db", copy));
  CHECK_FALSE(std::filesystem::exists(copy));
  follower.open();
  CHECK(follower.state.position == batch_position{4, 1});
  REQUIRE(follower.state.queues.size() == 1);
  CHECK(follower.state.queues[0].queue.name == "q");
  CHECK(follower.load(1).at(0).body == "in the snapshot");

  // Not a store: refused, the follower's file untouched.
  { std::ofstream(copy) << "not a database"; }
  follower.close();
  CHECK(install_snapshot(follower.dir.str(), "roost.db", copy).has_value());
  follower.open();
  CHECK(follower.state.position == batch_position{4, 1});
}
