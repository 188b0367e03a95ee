// The chunks of a stream its readers loaded from the store, kept while
// readers may still pass through them, so readers replaying together share
// one read. Bounded by count and by an estimate of their memory; a chunk
// that every reader has passed goes first, then the least recently used.
// Pure bookkeeping, broker thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "broker/stream/stream_log.hpp"

namespace roost {

using stream_chunk = std::shared_ptr<const std::vector<stream_record>>;  // consecutive offsets

class chunk_cache {
 public:
  chunk_cache(std::size_t max_chunks, std::uint64_t max_bytes) : max_chunks_(max_chunks), max_bytes_(max_bytes) {}

  // The chunk holding `offset`, marked as used; null if none does.
  const stream_chunk* find(std::uint64_t offset);
  // A chunk starts at this offset.
  bool starts_at(std::uint64_t offset) const { return chunks_.contains(offset); }
  // Keeps a chunk (not empty) and evicts to the bounds: chunks that end at
  // or before `everyone_past` (no reader will read them again) first.
  void insert(stream_chunk records, std::uint64_t everyone_past);
  // Forgets the chunks that end at or before `offset` (retention removed them).
  void drop_before(std::uint64_t offset);
  void clear();

  std::size_t size() const { return chunks_.size(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  struct entry {
    stream_chunk records;
    std::uint64_t bytes = 0;  // estimated memory
    std::uint64_t last_used = 0;
  };
  using map = std::map<std::uint64_t, entry>;  // by first offset
  map::iterator erase(map::iterator it);

  std::size_t max_chunks_;
  std::uint64_t max_bytes_;
  map chunks_;
  std::uint64_t bytes_ = 0;
  std::uint64_t use_clock_ = 0;
};

}  // namespace roost
