// Unit tests for routing/fanout_exchange: every binding matches, the key is
// ignored for routing but still part of binding identity.
#include <doctest/doctest.h>

#include <algorithm>

#include "routing/fanout_exchange.hpp"
#include "tests/unit/routing_test_support.hpp"

using namespace roost;
using namespace roost::routing;

namespace {

using test::exchange;
using test::queue;
using test::route;

}  // namespace

TEST_CASE("fanout: every destination, whatever the routing key") {
  fanout_exchange x;
  CHECK(route(x, "anything").empty());
  CHECK(x.bind(queue(1), "", {}));
  CHECK(x.bind(queue(2), "ignored", {}));
  CHECK(x.bind(exchange(3), "#", {}));
  const std::vector expected{queue(1), queue(2), exchange(3)};
  CHECK(route(x, "") == expected);
  CHECK(route(x, "some.key") == expected);
  CHECK(route(x, "ignored") == expected);
}

TEST_CASE("fanout: one destination bound with two keys is two bindings but routed once") {
  fanout_exchange x;
  CHECK(x.bind(queue(1), "a", {}));
  CHECK(x.bind(queue(1), "b", {}));
  CHECK_FALSE(x.bind(queue(1), "a", {}));
  CHECK(x.binding_count() == 2);
  CHECK(x.destination_count() == 1);
  CHECK(route(x, "z") == std::vector{queue(1)});

  CHECK(x.unbind(queue(1), "a", {}));
  CHECK_FALSE(x.unbind(queue(1), "a", {}));
  CHECK(route(x, "z") == std::vector{queue(1)});  // still bound with "b"
  CHECK(x.unbind(queue(1), "b", {}));
  CHECK(route(x, "z").empty());
  CHECK(x.binding_count() == 0);
}

TEST_CASE("fanout: arguments are part of identity, compared sorted by name") {
  fanout_exchange x;
  const amqp::field_table args{{{"p", std::int16_t{1}}, {"q", true}}};
  const amqp::field_table reordered{{{"q", true}, {"p", std::int16_t{1}}}};
  CHECK(x.bind(queue(1), "", {}));
  CHECK(x.bind(queue(1), "", args));
  CHECK_FALSE(x.bind(queue(1), "", reordered));
  CHECK(x.binding_count() == 2);
  CHECK_FALSE(x.unbind(queue(1), "other", args));
  CHECK(x.unbind(queue(1), "", reordered));
  CHECK(x.binding_count() == 1);
}

TEST_CASE("fanout: thousands of destinations bind, route and unbind consistently") {
  fanout_exchange x;
  constexpr std::uint32_t n = 5000;
  for (std::uint32_t i = 0; i < n; ++i) CHECK(x.bind(queue(i), "", {}));
  CHECK_FALSE(x.bind(queue(n / 2), "", {}));
  CHECK(route(x, "").size() == n);

  // Remove all but every tenth, from the middle outwards, so swap-and-pop
  // reshuffles entries that are later looked up again.
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t id = (i * 7919) % n;  // 7919 is prime: a permutation of 0..n-1
    if (id % 10 != 0) CHECK(x.unbind(queue(id), "", {}));
  }
  const auto out = route(x, "");
  REQUIRE(out.size() == n / 10);
  for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == queue(static_cast<std::uint32_t>(i * 10)));
  for (std::uint32_t i = 0; i < n; i += 10) CHECK(x.unbind(queue(i), "", {}));
  CHECK(route(x, "").empty());
  CHECK(x.destination_count() == 0);
}

TEST_CASE("fanout: make_router builds one") {
  auto router = make_router("fanout");
  REQUIRE(router != nullptr);
  CHECK(router->bind(queue(4), "k", {}));
  CHECK(route(*router, "other") == std::vector{queue(4)});
  CHECK_FALSE(router->needs_headers());
}
