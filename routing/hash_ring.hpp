// A consistent-hash ring: each destination owns points on a 64-bit circle
// in proportion to its weight, and a key goes to the owner of the first
// point at or after the key's hash.
//
// Points are derived from a seed per destination (a hash of its name), not
// from insertion order, so a key's owner depends only on the set of
// (destination, weight) pairs: it survives a restart, and adding or
// removing one destination moves only the keys that destination gains or
// loses, about 1/N of them. Many points per unit of weight keep the share
// of each destination within a few percent of its weight's share.
//
// Pure data, no threads; owned by a consistent_hash_exchange.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "routing/exchange_router.hpp"

namespace roost::routing {

// A stable 64-bit hash (FNV-1a with a final avalanche), the same on every
// platform and run: ring positions and key hashes must not change across restarts.
std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed = 0);

class hash_ring {
 public:
  // Points per unit of weight: about 4% standard deviation of the shares with equal weights.
  static constexpr std::uint32_t points_per_weight = 160;

  struct member {
    destination dest;
    std::uint64_t seed = 0;  // identifies the member's points; distinct members need distinct seeds
    std::uint32_t weight = 0;
  };

  // Rebuilds the ring from scratch: O(P log P) for P points. Bindings change
  // rarely compared with routing, so the ring is a sorted vector.
  void assign(const std::vector<member>& members);
  // The destination owning the key hash, or nothing when the ring is empty.
  std::optional<destination> owner(std::uint64_t key_hash) const;
  std::size_t point_count() const { return points_.size(); }

 private:
  struct point {
    std::uint64_t position;
    destination dest;
  };
  std::vector<point> points_;  // ascending position
};

}  // namespace roost::routing
