// Unit tests for routing/hash_ring and routing/consistent_hash_exchange:
// stickiness, shares proportional to weights, minimal movement when a
// destination comes or goes, independence from binding order, hash
// sources (routing key, header, property), and the plugin's refusals.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "amqp/properties.hpp"
#include "routing/consistent_hash_exchange.hpp"
#include "routing/hash_ring.hpp"
#include "tests/unit/routing_test_support.hpp"

using namespace roost;
using namespace roost::routing;

namespace {

using test::queue;

amqp::field_table args(std::initializer_list<std::pair<const char*, amqp::field_value>> entries) {
  amqp::field_table t;
  for (const auto& [k, v] : entries) t.set(k, v);
  return t;
}

destination pick(const consistent_hash_exchange& x, const std::string& key) {
  std::vector<destination> out;
  x.route(routed_message{key, nullptr}, out);
  REQUIRE(out.size() == 1);
  return out[0];
}

std::map<std::uint32_t, int> shares(const consistent_hash_exchange& x, int keys) {
  std::map<std::uint32_t, int> count;
  for (int i = 0; i < keys; ++i) ++count[pick(x, "key-" + std::to_string(i)).id];
  return count;
}

void bind_named(consistent_hash_exchange& x, std::uint32_t id, const std::string& weight) {
  x.name_destination(queue(id), "q" + std::to_string(id));
  REQUIRE(x.bind(queue(id), weight, {}));
}

}  // namespace

TEST_CASE("hash ring: stable hash is fixed across runs and platforms") {
  // Ring positions are derived from it: a change would move every key after an upgrade.
  CHECK(stable_hash("") == stable_hash(""));
  CHECK(stable_hash("a") != stable_hash("b"));
  // Pinned values (FNV-1a 64 + MurmurHash3 finaliser): if these change, keys move after an upgrade.
  CHECK(stable_hash("order-42") == 0x8e47543c313c6386ULL);
  CHECK(stable_hash("") == 0xefd01f60ba992926ULL);
  CHECK(stable_hash("abc", 1) != stable_hash("abc", 2));
}

TEST_CASE("hash ring: empty ring owns nothing; one member owns everything") {
  hash_ring ring;
  CHECK_FALSE(ring.owner(123).has_value());
  ring.assign({{queue(7), 99, 1}});
  CHECK(ring.point_count() == hash_ring::points_per_weight);
  for (std::uint64_t h : {0ULL, 1ULL, ~0ULL, 0x8000000000000000ULL}) CHECK(ring.owner(h) == queue(7));
}

TEST_CASE("consistent hash: no bindings routes nowhere; one message goes to exactly one queue") {
  consistent_hash_exchange x;
  std::vector<destination> out;
  x.route(routed_message{"k", nullptr}, out);
  CHECK(out.empty());
  for (std::uint32_t id = 1; id <= 4; ++id) bind_named(x, id, "1");
  x.route(routed_message{"k", nullptr}, out);
  CHECK(out.size() == 1);
}

TEST_CASE("consistent hash: a key always lands on the same queue") {
  consistent_hash_exchange x;
  for (std::uint32_t id = 1; id <= 5; ++id) bind_named(x, id, "1");
  for (int i = 0; i < 1000; ++i) {
    std::string key = "customer-" + std::to_string(i);
    destination first = pick(x, key);
    for (int repeat = 0; repeat < 3; ++repeat) CHECK(pick(x, key) == first);
  }
}

TEST_CASE("consistent hash: equal weights share evenly, unequal weights proportionally") {
  consistent_hash_exchange even;
  for (std::uint32_t id = 1; id <= 4; ++id) bind_named(even, id, "1");
  auto count = shares(even, 40000);
  CHECK(count.size() == 4);
  for (auto [id, n] : count) CHECK(std::abs(n - 10000) < 1500);  // within 15% of a fair share

  consistent_hash_exchange weighted;
  bind_named(weighted, 1, "1");
  bind_named(weighted, 2, "2");
  bind_named(weighted, 3, "5");
  auto w = shares(weighted, 80000);  // expected 10000 / 20000 / 50000
  CHECK(std::abs(w[1] - 10000) < 2000);
  CHECK(std::abs(w[2] - 20000) < 3000);
  CHECK(std::abs(w[3] - 50000) < 4000);
}

TEST_CASE("consistent hash: adding or removing a queue moves only the keys it gains or loses") {
  consistent_hash_exchange x;
  for (std::uint32_t id = 1; id <= 4; ++id) bind_named(x, id, "1");
  std::map<std::string, destination> before;
  for (int i = 0; i < 20000; ++i) before["k" + std::to_string(i)] = pick(x, "k" + std::to_string(i));

  bind_named(x, 5, "1");
  int moved = 0;
  for (const auto& [key, dest] : before) {
    destination now = pick(x, key);
    if (now != dest) {
      CHECK(now == queue(5));  // a key only ever moves to the newcomer
      ++moved;
    }
  }
  CHECK(moved > 20000 / 5 / 2);
  CHECK(moved < 20000 / 5 * 3 / 2);

  REQUIRE(x.unbind(queue(5), "1", {}));
  for (const auto& [key, dest] : before) CHECK(pick(x, key) == dest);  // back exactly as before

  REQUIRE(x.unbind(queue(2), "1", {}));
  for (const auto& [key, dest] : before)
    if (dest != queue(2)) CHECK(pick(x, key) == dest);  // only queue 2's keys move
}

TEST_CASE("consistent hash: the mapping depends on destination names, not binding order or ids") {
  consistent_hash_exchange a;
  consistent_hash_exchange b;
  for (std::uint32_t id : {1u, 2u, 3u}) {
    a.name_destination(queue(id), "orders-" + std::to_string(id));
    REQUIRE(a.bind(queue(id), "1", {}));
  }
  // As after a restart: same names, other ids, other order.
  for (std::uint32_t id : {3u, 1u, 2u}) {
    b.name_destination(queue(id + 10), "orders-" + std::to_string(id));
    REQUIRE(b.bind(queue(id + 10), "1", {}));
  }
  for (int i = 0; i < 2000; ++i) {
    std::string key = "k" + std::to_string(i);
    CHECK(pick(b, key).id == pick(a, key).id + 10);
  }
}

TEST_CASE("consistent hash: binding identity and duplicate bindings") {
  consistent_hash_exchange x;
  CHECK(x.bind(queue(1), "1", {}));
  CHECK_FALSE(x.bind(queue(1), "1", {}));
  CHECK(x.bind(queue(1), "3", {}));  // a second binding adds its own weight
  CHECK(x.binding_count() == 2);
  CHECK(x.ring().point_count() == 4 * hash_ring::points_per_weight);
  CHECK_FALSE(x.unbind(queue(1), "2", {}));
  CHECK(x.unbind(queue(1), "3", {}));
  CHECK(x.ring().point_count() == hash_ring::points_per_weight);
}

TEST_CASE("consistent hash: hash-header routes on a header; a missing one still routes consistently") {
  consistent_hash_exchange x(args({{"hash-header", "customer"}}));
  CHECK(x.needs_headers());
  for (std::uint32_t id = 1; id <= 8; ++id) bind_named(x, id, "1");
  auto route_header = [&](const amqp::field_table* headers, std::string_view key) {
    std::vector<destination> out;
    x.route(routed_message{key, headers}, out);
    REQUIRE(out.size() == 1);
    return out[0];
  };
  amqp::field_table h = args({{"customer", "alice"}});
  destination alice = route_header(&h, "rk-1");
  CHECK(route_header(&h, "rk-2") == alice);  // the routing key does not matter
  amqp::field_table n = args({{"customer", std::int32_t{42}}});
  amqp::field_table n64 = args({{"customer", std::int64_t{42}}});
  CHECK(route_header(&n, "a") == route_header(&n64, "b"));  // integers hash by value
  CHECK(route_header(nullptr, "x") == route_header(nullptr, "y"));
}

TEST_CASE("consistent hash: hash-property routes on message_id, correlation_id or timestamp") {
  consistent_hash_exchange x(args({{"hash-property", "message_id"}}));
  CHECK_FALSE(x.needs_headers());
  for (std::uint32_t id = 1; id <= 8; ++id) bind_named(x, id, "1");
  auto encoded = [](std::string message_id) {
    amqp::basic_properties p;
    p.message_id = std::move(message_id);
    std::string raw;
    amqp::wire_writer out(raw);
    amqp::encode_properties(out, p);
    return raw;
  };
  std::string m1 = encoded("m-1");
  std::vector<destination> first;
  std::vector<destination> second;
  x.route(routed_message{"key-a", nullptr, m1}, first);
  x.route(routed_message{"key-b", nullptr, m1}, second);
  CHECK(first == second);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 200; ++i) {
    std::string raw = encoded("m-" + std::to_string(i));
    std::vector<destination> out;
    x.route(routed_message{"same", nullptr, raw}, out);
    seen.insert(out.at(0).id);
  }
  CHECK(seen.size() == 8);  // different ids spread out although the routing key is fixed
}

TEST_CASE("consistent hash: the plugin's refusals") {
  consistent_hash_exchange x;
  CHECK(x.validate_binding_key("1").empty());
  CHECK(x.validate_binding_key("20").empty());
  CHECK(x.validate_binding_key("+3").empty());
  CHECK(x.validate_binding_key("abc") == "The binding key must be an integer: <<\"abc\">>");
  CHECK(x.validate_binding_key("") == "The binding key must be an integer: <<>>");
  CHECK(x.validate_binding_key(" 2") == "The binding key must be an integer: <<\" 2\">>");
  CHECK(x.validate_binding_key("1.5") == "The binding key must be an integer: <<\"1.5\">>");
  CHECK(x.validate_binding_key("0") == "The binding key must be greater than 0");
  CHECK(x.validate_binding_key("-2") == "The binding key must be greater than 0");
  CHECK(x.validate_binding_key("1000000").empty());  // accepted; counts as 1000 on the ring
  CHECK(x.validate_binding_key("99999999999999999999999").empty());
  CHECK(consistent_hash_exchange::validate_arguments(args({{"hash-header", "h"}, {"hash-property", "message_id"}})) ==
        "hash-header and hash-property are mutually exclusive");
  CHECK(consistent_hash_exchange::validate_arguments(args({{"hash-property", "priority"}})) ==
        "Unsupported property: priority");
  CHECK(consistent_hash_exchange::validate_arguments(args({{"hash-property", "timestamp"}})).empty());
}

TEST_CASE("make_router / check_exchange: consistent hash and delayed types") {
  using kind = exchange_problem::kind;
  CHECK(make_router("x-consistent-hash") != nullptr);
  CHECK(check_exchange("x-consistent-hash", {}).what == kind::none);
  CHECK(check_exchange("x-delayed-message", {}).what == kind::invalid_arguments);
  CHECK(check_exchange("x-delayed-message", {}).text ==
        "Invalid argument, 'x-delayed-type' must be an existing exchange type");
  CHECK(check_exchange("x-delayed-message", args({{"x-delayed-type", "x-delayed-message"}})).text ==
        "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'");
  auto unknown = check_exchange("x-delayed-message", args({{"x-delayed-type", "nope"}}));
  CHECK(unknown.what == kind::unknown_type);
  CHECK(unknown.text == "nope");
  CHECK(check_exchange("x-delayed-message", args({{"x-delayed-type", "topic"}})).what == kind::none);
  auto delayed_topic = make_router("x-delayed-message", args({{"x-delayed-type", "topic"}}));
  REQUIRE(delayed_topic != nullptr);
  REQUIRE(delayed_topic->bind(queue(1), "a.*", {}));
  CHECK(test::route(*delayed_topic, "a.b") == std::vector{queue(1)});
  CHECK(check_exchange("x-delayed-message",
                       args({{"x-delayed-type", "x-consistent-hash"}, {"hash-header", "a"}, {"hash-property", "x"}}))
            .what == kind::invalid_arguments);
}
