#include "broker/stream/chunk_cache.hpp"

#include <algorithm>

namespace roost {

namespace {

// What a cached message costs beyond its content: the message object, its
// strings' headers and the record (measured roughly on 16-byte messages).
constexpr std::uint64_t per_message_overhead = 200;

std::uint64_t estimate(const std::vector<stream_record>& records) {
  std::uint64_t bytes = 0;
  for (const stream_record& r : records)
    bytes += per_message_overhead + r.msg->body.size() + r.msg->properties.size() + r.msg->routing_key.size();
  return bytes;
}

template <class entry>
std::uint64_t end_of(const std::pair<const std::uint64_t, entry>& chunk) {
  return chunk.first + chunk.second.records->size();
}

}  // namespace

const stream_chunk* chunk_cache::find(std::uint64_t offset) {
  auto it = chunks_.upper_bound(offset);
  if (it == chunks_.begin()) return nullptr;
  --it;
  if (offset >= end_of(*it)) return nullptr;
  it->second.last_used = ++use_clock_;
  return &it->second.records;
}

void chunk_cache::insert(stream_chunk records, std::uint64_t everyone_past) {
  std::uint64_t first = records->front().offset;
  if (auto old = chunks_.find(first); old != chunks_.end()) erase(old);
  std::uint64_t bytes = estimate(*records);
  bytes_ += bytes;
  chunks_[first] = entry{std::move(records), bytes, ++use_clock_};
  auto over = [&] { return chunks_.size() > max_chunks_ || bytes_ > max_bytes_; };
  for (auto it = chunks_.begin(); over() && it != chunks_.end();) it = end_of(*it) <= everyone_past ? erase(it) : ++it;
  while (over() && chunks_.size() > 1) {
    erase(std::min_element(chunks_.begin(), chunks_.end(),
                           [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; }));
  }
}

void chunk_cache::drop_before(std::uint64_t offset) {
  for (auto it = chunks_.begin(); it != chunks_.end();) it = end_of(*it) <= offset ? erase(it) : ++it;
}

void chunk_cache::clear() {
  chunks_.clear();
  bytes_ = 0;
}

chunk_cache::map::iterator chunk_cache::erase(map::iterator it) {
  bytes_ -= it->second.bytes;
  return chunks_.erase(it);
}

}  // namespace roost
