#include "broker/reply_to/direct_reply_to.hpp"

#include <random>

namespace roost {

namespace {

// 128 random bits from the OS (not the name generator's PRNG, whose output
// could be predicted from other names), url-safe base64.
std::string random_token() {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device source;
  std::string out;
  std::uint64_t bits[2] = {(std::uint64_t{source()} << 32) | source(), (std::uint64_t{source()} << 32) | source()};
  for (int i = 0; i < 22; ++i) {
    std::uint64_t& word = bits[i / 11];
    out.push_back(alphabet[word & 63]);
    word >>= 6;
  }
  return out;
}

}  // namespace

std::string direct_reply_to::add(std::shared_ptr<channel* const> requester) {
  std::string address = std::string(pseudo_queue) + "." + random_token();
  requesters_.insert_or_assign(address, std::move(requester));
  return address;
}

void direct_reply_to::remove(const std::string& address) { requesters_.erase(address); }

channel* direct_reply_to::find(std::string_view address) const {
  auto it = requesters_.find(address);
  return it == requesters_.end() ? nullptr : *it->second;
}

}  // namespace roost
