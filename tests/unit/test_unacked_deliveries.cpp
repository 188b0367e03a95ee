// The channel's unacked list: single, multiple and "all" settlement, and
// RabbitMQ's rule that the tag itself must be outstanding.
#include <doctest/doctest.h>

#include "broker/protocol/unacked_deliveries.hpp"

using namespace roost;

namespace {

unacked_deliveries with_tags(std::initializer_list<std::uint64_t> tags) {
  unacked_deliveries u;
  for (auto t : tags) u.add(unacked_delivery{t, 1, queued_message{nullptr, t, false}, nullptr, false});
  return u;
}

std::vector<std::uint64_t> tags_of(const std::vector<unacked_delivery>& ds) {
  std::vector<std::uint64_t> out;
  for (auto& d : ds) out.push_back(d.tag);
  return out;
}

}  // namespace

TEST_CASE("settling one tag") {
  auto u = with_tags({1, 2, 3});
  std::vector<unacked_delivery> out;
  CHECK(u.settle(2, false, out));
  CHECK(tags_of(out) == std::vector<std::uint64_t>{2});
  CHECK(u.size() == 2);
  out.clear();
  CHECK_FALSE(u.settle(2, false, out));  // already settled
  CHECK(out.empty());
}

TEST_CASE("multiple settles every outstanding tag up to and including the tag") {
  auto u = with_tags({1, 2, 3, 4, 5});
  std::vector<unacked_delivery> out;
  CHECK(u.settle(2, false, out));
  out.clear();
  CHECK(u.settle(4, true, out));
  CHECK(tags_of(out) == std::vector<std::uint64_t>{1, 3, 4});
  CHECK(u.size() == 1);
}

TEST_CASE("multiple with an unknown tag settles nothing") {
  auto u = with_tags({1, 2, 3});
  std::vector<unacked_delivery> out;
  CHECK_FALSE(u.settle(9, true, out));
  CHECK(u.size() == 3);
}

TEST_CASE("tag 0 with multiple settles everything; without multiple it is unknown") {
  auto u = with_tags({4, 5, 6});
  std::vector<unacked_delivery> out;
  CHECK_FALSE(u.settle(0, false, out));
  CHECK(u.settle(0, true, out));
  CHECK(tags_of(out) == std::vector<std::uint64_t>{4, 5, 6});
  CHECK(u.empty());
}
