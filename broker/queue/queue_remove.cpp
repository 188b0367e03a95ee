// Taking chosen ready messages out of a queue, wherever they are: one in
// memory leaves its lane as a delivery would (without being delivered); one
// paged out is removed from the store and no longer counted, and a load
// already in flight that reads it back skips it (removed_paged_).
#include <algorithm>

#include "broker/queue/queue.hpp"

namespace roost {

bool queue::remove_ready(const ready_view& seen, std::vector<storage::operation>& ops) {
  std::size_t l = storage::lane_of(seen.seq);
  if (stream_ || l >= lanes_.size() || seen.msg == nullptr) return false;
  ready_lane& lane = lanes_[l];
  std::uint64_t bytes = seen.msg->body.size();
  if (seen.seq <= lane.last_in_memory_seq) {
    auto at = std::lower_bound(lane.ready.begin(), lane.ready.end(), seen.seq,
                               [](const queued_message& m, std::uint64_t seq) { return m.seq < seq; });
    if (at == lane.ready.end() || at->seq != seen.seq || at->msg == nullptr) return false;  // delivered or expired
    queued_message m = std::move(*at);
    lane.ready.erase(at);
    unindex_expiry(m);
    settle_into(m, ops);
  } else {
    if (lane.paged_count == 0 || removed_paged_.contains(seen.seq) || expiring_paged_.contains(seen.seq)) return false;
    if (seen.expires_at_ms != 0 && expiry_index_.erase({seen.expires_at_ms, seen.seq}) == 0)
      return false;  // it expired while the caller looked
    --lane.paged_count;
    removed_paged_.insert(seen.seq);
    storage::remove_entry removal{store_id_, seen.seq};
    // A queue that is not persisted pages to the scratch store: nothing there is durable.
    if (persisted_) ops.emplace_back(removal);
    else page_store()->submit({removal}, {});
  }
  ready_bytes_ -= std::min(ready_bytes_, bytes);
  flow_.drained(ready_count());
  return true;
}

void queue::prune_removed(std::size_t l) {
  if (removed_paged_.empty()) return;
  removed_paged_.erase(removed_paged_.lower_bound(storage::lane_base(l)),
                       removed_paged_.upper_bound(lanes_[l].last_in_memory_seq));
}

}  // namespace roost
