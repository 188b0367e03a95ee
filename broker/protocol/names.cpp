#include "broker/protocol/names.hpp"

#include <random>

namespace roost {

std::string generate_name(std::string_view prefix) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // 128 random bits, as RabbitMQ uses; mt19937_64 seeded once per thread is plenty for uniqueness.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(prefix);
  std::uint64_t bits[2] = {rng(), rng()};
  for (int i = 0; i < 22; ++i) {
    std::uint64_t& word = bits[i / 11];
    out.push_back(alphabet[word & 63]);
    word >>= 6;
  }
  return out;
}

}  // namespace roost
