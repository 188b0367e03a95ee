// Unit tests for routing/direct_exchange and make_router: exact-key routing,
// binding identity (destination, key, arguments) and a lookup table that
// unbound keys never grow.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "routing/direct_exchange.hpp"
#include "tests/unit/routing_test_support.hpp"

using namespace roost;
using namespace roost::routing;

namespace {

using test::exchange;
using test::queue;
using test::route;

amqp::field_table table(std::initializer_list<amqp::field_entry> entries) { return amqp::field_table{entries}; }

}  // namespace

TEST_CASE("direct: routes on the exact key only") {
  direct_exchange x;
  CHECK(x.bind(queue(1), "orders", {}));
  CHECK(x.bind(queue(2), "orders.eu", {}));
  CHECK(x.bind(queue(3), "", {}));

  CHECK(route(x, "orders") == std::vector{queue(1)});
  CHECK(route(x, "orders.eu") == std::vector{queue(2)});
  CHECK(route(x, "").size() == 1);
  CHECK(route(x, "").front() == queue(3));
  CHECK(route(x, "Orders").empty());   // case-sensitive
  CHECK(route(x, "order").empty());    // no prefix match
  CHECK(route(x, "orders.").empty());  // no trailing-dot tolerance
  CHECK(route(x, "#").empty());        // no wildcards
}

TEST_CASE("direct: several destinations on one key, queues and exchanges apart") {
  direct_exchange x;
  CHECK(x.bind(queue(7), "k", {}));
  CHECK(x.bind(exchange(7), "k", {}));
  CHECK(x.bind(queue(8), "k", {}));
  CHECK(route(x, "k") == std::vector{queue(7), queue(8), exchange(7)});
}

TEST_CASE("direct: binding identity is (destination, key, arguments)") {
  direct_exchange x;
  const auto args = table({{"a", std::int32_t{1}}, {"b", "two"}});
  const auto reordered = table({{"b", "two"}, {"a", std::int32_t{1}}});

  CHECK(x.bind(queue(1), "k", {}));
  CHECK_FALSE(x.bind(queue(1), "k", {}));  // exact duplicate
  CHECK(x.bind(queue(1), "k", args));      // other arguments: another binding
  CHECK_FALSE(x.bind(queue(1), "k", reordered));  // RabbitMQ sorts arguments by name
  CHECK(x.bind(queue(1), "k", table({{"a", std::int64_t{1}}, {"b", "two"}})));  // other type: other binding

  // Three bindings of one destination to one key: routed once.
  CHECK(route(x, "k") == std::vector{queue(1)});

  CHECK(x.unbind(queue(1), "k", reordered));
  CHECK_FALSE(x.unbind(queue(1), "k", args));
  CHECK(x.unbind(queue(1), "k", {}));
  CHECK(route(x, "k") == std::vector{queue(1)});  // the int64 binding remains
}

TEST_CASE("direct: unbinding what is not bound returns false and changes nothing") {
  direct_exchange x;
  CHECK(x.bind(queue(1), "k", {}));
  CHECK_FALSE(x.unbind(queue(1), "other", {}));
  CHECK_FALSE(x.unbind(queue(2), "k", {}));
  CHECK_FALSE(x.unbind(exchange(1), "k", {}));
  CHECK_FALSE(x.unbind(queue(1), "k", table({{"a", "b"}})));
  CHECK(x.key_count() == 1);
  CHECK(route(x, "k") == std::vector{queue(1)});
}

TEST_CASE("direct: routing unbound keys does not grow the table") {
  direct_exchange x;
  CHECK(x.bind(queue(1), "bound", {}));
  REQUIRE(x.key_count() == 1);
  for (int i = 0; i < 1000; ++i) CHECK(route(x, "unbound-" + std::to_string(i)).empty());
  CHECK(route(x, "").empty());
  CHECK(x.key_count() == 1);
}

TEST_CASE("direct: the last unbind of a key removes the key") {
  direct_exchange x;
  CHECK(x.bind(queue(1), "k", {}));
  CHECK(x.bind(queue(2), "k", {}));
  CHECK(x.unbind(queue(1), "k", {}));
  CHECK(x.key_count() == 1);
  CHECK(x.unbind(queue(2), "k", {}));
  CHECK(x.key_count() == 0);
  CHECK(route(x, "k").empty());
}

TEST_CASE("direct: many destinations on one key survive bind/unbind in any order") {
  direct_exchange x;
  for (std::uint32_t i = 0; i < 200; ++i) CHECK(x.bind(queue(i), "k", {}));
  for (std::uint32_t i = 0; i < 200; ++i) CHECK_FALSE(x.bind(queue(i), "k", {}));
  for (std::uint32_t i = 0; i < 200; i += 2) CHECK(x.unbind(queue(i), "k", {}));
  auto out = route(x, "k");
  REQUIRE(out.size() == 100);
  for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == queue(static_cast<std::uint32_t>(2 * i + 1)));
  for (std::uint32_t i = 1; i < 200; i += 2) CHECK(x.unbind(queue(i), "k", {}));
  CHECK(x.key_count() == 0);
}

TEST_CASE("make_router: built-in types only, case-sensitive") {
  auto direct = make_router("direct");
  REQUIRE(direct != nullptr);
  CHECK(dynamic_cast<direct_exchange*>(direct.get()) != nullptr);
  CHECK_FALSE(direct->needs_headers());
  CHECK(direct->validate_binding(table({{"x-match", "bogus"}})).empty());
  CHECK(make_router("fanout") != nullptr);
  CHECK(make_router("topic") != nullptr);
  CHECK(make_router("headers") != nullptr);
  CHECK(make_router("Direct") == nullptr);
  CHECK(make_router("x-delayed-message") == nullptr);
  CHECK(make_router("") == nullptr);
}
