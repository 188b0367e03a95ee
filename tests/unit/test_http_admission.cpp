// Who gets a connection to the admin HTTP port: per-peer and total caps on
// connections that have not logged in, the oldest of them closed to make
// room for a newcomer, logged-in ones never closed for one.
#include <doctest/doctest.h>

#include "admin-ui/http_admission.hpp"

using roost::admin::http_admission;

namespace {

constexpr http_admission::limits small{8, 4, 2};

}  // namespace

TEST_CASE("a peer over its share loses its own oldest connection, not another peer's") {
  http_admission a(small);
  CHECK_FALSE(a.arrive(1, "10.0.0.1").evict);
  CHECK_FALSE(a.arrive(2, "10.0.0.2").evict);
  CHECK_FALSE(a.arrive(3, "10.0.0.2").evict);
  auto v = a.arrive(4, "10.0.0.2");
  CHECK(v.admit);
  REQUIRE(v.evict);
  CHECK(*v.evict == 2);
  CHECK(a.unproven_from("10.0.0.2") == 2);
  CHECK(a.unproven_from("10.0.0.1") == 1);
  a.left(2);  // the evicted session's coroutine ends later: nothing changes
  CHECK(a.unproven() == 3);
}

TEST_CASE("past the total of connections without a login, the oldest of them goes") {
  http_admission a(small);
  for (http_admission::session_id id = 1; id <= 4; ++id) CHECK_FALSE(a.arrive(id, "p" + std::to_string(id)).evict);
  auto v = a.arrive(5, "p5");
  CHECK(v.admit);
  REQUIRE(v.evict);
  CHECK(*v.evict == 1);
  CHECK(a.unproven() == 4);
  CHECK(a.open() == 4);
}

TEST_CASE("logged-in connections are never closed for a newcomer; when all are, the newcomer is refused") {
  http_admission a(small);
  for (http_admission::session_id id = 1; id <= 8; ++id) {
    REQUIRE(a.arrive(id, "p" + std::to_string(id)).admit);
    a.logged_in(id);
  }
  CHECK(a.unproven() == 0);
  auto v = a.arrive(9, "p9");
  CHECK_FALSE(v.admit);
  CHECK_FALSE(v.evict);
  CHECK(a.open() == 8);
  a.left(3);
  CHECK(a.arrive(10, "p10").admit);
}

TEST_CASE("at the total cap with some not logged in, the oldest of those makes room") {
  http_admission a(small);
  for (http_admission::session_id id = 1; id <= 8; ++id) {
    REQUIRE(a.arrive(id, "p" + std::to_string(id)).admit);
    if (id != 5) a.logged_in(id);
  }
  auto v = a.arrive(9, "p9");
  CHECK(v.admit);
  REQUIRE(v.evict);
  CHECK(*v.evict == 5);
  CHECK(a.open() == 8);
}
