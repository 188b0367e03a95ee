// Reading a queue's ready messages without taking them: what the admin API's
// browse shows, and what its delete and move select by filter. The order is
// the order of delivery (the highest priority first, then arrival); a page
// reads what is in memory and then what is paged out to the store, in
// bounded steps, so that a browse of a deep queue never loads the queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "broker/model/message.hpp"

namespace roost {

class queue;

// A ready message as a browse sees it.
struct ready_view {
  std::uint64_t seq = 0;       // its id: stable for as long as it stays in the queue
  std::uint64_t position = 0;  // the ready messages ahead of it, as of the read
  message_ref msg;
  bool redelivered = false;
  std::uint32_t delivery_count = 0;
  std::int64_t expires_at_ms = 0;  // 0: no TTL
};

using ready_match = std::function<bool(const ready_view&)>;

struct browse_request {
  std::uint64_t from_position = 0;
  std::size_t limit = 100;         // matches to return at most
  std::size_t scan_limit = 10000;  // messages to look at at most: a page's work is bounded
  ready_match matches;             // null: every message matches
};

struct browse_page {
  queue* source = nullptr;  // the queue read; null if it was deleted meanwhile
  std::vector<ready_view> found;
  std::uint64_t next_position = 0;  // where the next page starts
  bool at_end = false;              // nothing ready was left past next_position
};

using browsed_page = std::function<void(browse_page)>;

}  // namespace roost
