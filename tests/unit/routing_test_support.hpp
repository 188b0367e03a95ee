// Helpers the routing unit tests share: destinations by id, and routing a
// key into a sorted list so results compare regardless of order.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "routing/exchange_router.hpp"

namespace roost::routing::test {

inline destination queue(std::uint32_t id) { return {destination_kind::queue, id}; }
inline destination exchange(std::uint32_t id) { return {destination_kind::exchange, id}; }

inline std::vector<destination> route(const exchange_router& router, std::string_view key,
                                      const amqp::field_table* headers = nullptr) {
  std::vector<destination> out;
  router.route(routed_message{key, headers}, out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace roost::routing::test
