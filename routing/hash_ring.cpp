// The ring's points and the stable hash behind them.
#include "routing/hash_ring.hpp"

#include <algorithm>

namespace roost::routing {

namespace {

// MurmurHash3's 64-bit finaliser: FNV-1a alone leaves short keys clustered.
std::uint64_t avalanche(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ avalanche(seed);
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return avalanche(h);
}

void hash_ring::assign(const std::vector<member>& members) {
  points_.clear();
  std::size_t total = 0;
  for (const member& m : members) total += std::size_t{m.weight} * points_per_weight;
  points_.reserve(total);
  for (const member& m : members) {
    std::uint64_t count = std::uint64_t{m.weight} * points_per_weight;
    for (std::uint64_t i = 0; i < count; ++i) points_.push_back(point{avalanche(m.seed + avalanche(i + 1)), m.dest});
  }
  // Ties (vanishingly rare) break by destination so the order is deterministic.
  std::sort(points_.begin(), points_.end(), [](const point& a, const point& b) {
    return a.position != b.position ? a.position < b.position : a.dest < b.dest;
  });
}

std::optional<destination> hash_ring::owner(std::uint64_t key_hash) const {
  if (points_.empty()) return std::nullopt;
  auto it = std::lower_bound(points_.begin(), points_.end(), key_hash,
                             [](const point& p, std::uint64_t h) { return p.position < h; });
  return it == points_.end() ? points_.front().dest : it->dest;  // the circle wraps
}

}  // namespace roost::routing
