// Browsing a queue and taking chosen messages out of it, over a real
// paging store: a browse reads memory and then the store in delivery order,
// from any position, within its scan budget, and changes nothing; a message
// taken out by id is gone wherever it was, even from a page load already in
// flight.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "broker/queue/queue.hpp"
#include "tests/unit/paging_test_support.hpp"

using namespace roost;
using namespace roost::testing;

namespace {

browse_page browse(fixture& f, queue& q, std::uint64_t from, std::size_t limit, ready_match matches = nullptr,
                   std::size_t scan_limit = 10000) {
  std::optional<browse_page> got;
  q.browse(browse_request{from, limit, scan_limit, std::move(matches)}, [&](browse_page p) { got = std::move(p); });
  REQUIRE(f.run_until([&] { return got.has_value(); }));
  CHECK(got->source == &q);
  return std::move(*got);
}

std::vector<std::string> found_bodies(const browse_page& p) {
  std::vector<std::string> out;
  for (const ready_view& v : p.found) out.push_back(v.msg->body);
  return out;
}

std::vector<std::uint64_t> positions(const browse_page& p) {
  std::vector<std::uint64_t> out;
  for (const ready_view& v : p.found) out.push_back(v.position);
  return out;
}

// Everything q delivers to a consumer with plenty of credit.
std::vector<std::string> drain(fixture& f, queue& q) {
  fake_consumer c;
  q.add_consumer(&c);
  for (int rounds = 0; rounds < 100 && q.ready_count() > 0; ++rounds) {
    f.settle(q);
    q.dispatch();
  }
  q.remove_consumer(&c);
  return bodies(c.got);
}

}  // namespace

TEST_CASE("a browse reads memory then the store in order, from any position, and changes nothing") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));

  browse_page all = browse(f, q, 0, 100);
  CHECK(found_bodies(all) == names("m", 0, 10));
  CHECK(positions(all) == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(all.at_end);
  CHECK(all.next_position == 10);

  browse_page across = browse(f, q, 2, 3);  // two in memory, one from the store
  CHECK(found_bodies(across) == names("m", 2, 5));
  CHECK(across.next_position == 5);
  CHECK_FALSE(across.at_end);
  CHECK(found_bodies(browse(f, q, 7, 100)) == names("m", 7, 10));  // the store finds position 7 itself
  browse_page past = browse(f, q, 10, 5);
  CHECK(past.found.empty());
  CHECK(past.at_end);

  CHECK(q.ready_count() == 10);
  CHECK(f.paged(q) == names("m", 4, 10));
  CHECK(drain(f, q) == names("m", 0, 10));
}

TEST_CASE("a filtered browse stops at its scan budget and says where to go on") {
  fixture f;
  queue q(1, "q", {}, f.services(2));
  for (std::uint64_t i = 0; i < 9; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  ready_match threes = [](const ready_view& v) { return (v.msg->body.back() - '0') % 3 == 0; };
  browse_page first = browse(f, q, 0, 100, threes, 5);
  CHECK(found_bodies(first) == std::vector<std::string>{"m0", "m3"});
  CHECK(first.next_position == 5);
  CHECK_FALSE(first.at_end);
  browse_page rest = browse(f, q, first.next_position, 100, threes, 5);
  CHECK(found_bodies(rest) == std::vector<std::string>{"m6"});
  CHECK(rest.at_end);
  // A page is full at its limit even when the chunk read holds more matches.
  browse_page one = browse(f, q, 0, 1, threes);
  CHECK(found_bodies(one) == std::vector<std::string>{"m0"});
  CHECK(one.next_position == 1);
}

TEST_CASE("a browse of a priority queue lists the higher lanes first, as they are delivered") {
  fixture f;
  queue_options options;
  options.arguments.set("x-max-priority", std::uint8_t{5});
  queue q(1, "q", options, f.services(2));
  q.enqueue(make_message("low-a", 0));
  q.enqueue(make_message("high-a", 5));
  q.enqueue(make_message("low-b", 0));
  q.enqueue(make_message("high-b", 5));
  q.enqueue(make_message("mid", 2));
  std::vector<std::string> order{"high-a", "high-b", "mid", "low-a", "low-b"};
  CHECK(found_bodies(browse(f, q, 0, 100)) == order);
  CHECK(found_bodies(browse(f, q, 2, 2)) == std::vector<std::string>{"mid", "low-a"});
  CHECK(drain(f, q) == order);
}

TEST_CASE("messages taken out by id are gone from memory and from the store, also from a load in flight") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  browse_page all = browse(f, q, 0, 100);
  std::vector<storage::operation> ops;  // the durable store's writes: none for a transient queue
  CHECK(q.remove_ready(all.found[1], ops));  // in memory
  CHECK(q.remove_ready(all.found[7], ops));  // paged out
  CHECK_FALSE(q.remove_ready(all.found[7], ops));  // already gone
  CHECK(ops.empty());
  CHECK(q.ready_count() == 8);

  fake_consumer c;
  c.credit = 3;
  q.add_consumer(&c);  // a load of what is paged starts; it will read m5, which goes now
  REQUIRE(q.loading());
  CHECK(q.remove_ready(all.found[5], ops));
  f.settle(q);
  q.remove_consumer(&c);
  std::vector<std::string> got = bodies(c.got);
  std::vector<std::string> rest = drain(f, q);
  got.insert(got.end(), rest.begin(), rest.end());
  CHECK(got == std::vector<std::string>{"m0", "m2", "m3", "m4", "m6", "m8", "m9"});
  CHECK(q.ready_count() == 0);
}

TEST_CASE("a browse finds positions in the store by seq while nothing left it, by counting after") {
  fixture f;
  queue q(1, "q", {}, f.services(4));
  for (std::uint64_t i = 0; i < 10; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  CHECK(found_bodies(browse(f, q, 6, 2)) == names("m", 6, 8));  // consecutive: by arithmetic
  browse_page all = browse(f, q, 0, 100);
  std::vector<storage::operation> ops;
  REQUIRE(q.remove_ready(all.found[5], ops));
  REQUIRE(q.remove_ready(all.found[7], ops));
  // The store part is m4 m6 m8 m9 now: position 6 is m8, whatever the seqs say.
  CHECK(found_bodies(browse(f, q, 6, 1)) == std::vector<std::string>{"m8"});
  CHECK(found_bodies(browse(f, q, 4, 100)) == std::vector<std::string>{"m4", "m6", "m8", "m9"});
}

TEST_CASE("reading by id finds ready messages in memory and in the store, and skips delivered ones") {
  fixture f;
  queue q(1, "q", {}, f.services(3));
  for (std::uint64_t i = 0; i < 6; ++i) q.enqueue(make_message(storage::testing::numbered("m", i)));
  browse_page all = browse(f, q, 0, 100);
  fake_consumer c;
  c.credit = 1;
  q.add_consumer(&c);  // m0 is delivered: no longer ready
  std::optional<browse_page> got;
  q.read_ready({all.found[0].seq, all.found[2].seq, all.found[4].seq, 999}, [&](browse_page p) { got = std::move(p); });
  REQUIRE(f.run_until([&] { return got.has_value(); }));
  CHECK(found_bodies(*got) == std::vector<std::string>{"m2", "m4"});
  q.remove_consumer(&c);
}
