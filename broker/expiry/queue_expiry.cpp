// Message TTL: x-message-ttl on the queue and the per-message expiration
// property, the lower of the two winning, counted from when the message
// entered this queue.
//
// Unlike RabbitMQ, which only drops expired messages when they reach the
// head, every ready message with a TTL is in an index by expiry time (in
// memory or paged out), and one scheduler wake-up per queue, for the
// earliest expiry, removes or dead-letters each message within a few
// milliseconds of its time wherever it sits. An expired message in the
// in-memory window is left in place as an empty slot (O(log n) to find,
// O(1) to clear) and skipped when it reaches the front; ready_count()
// excludes it at once. A paged-out one is removed from its store, or read
// back first when it has to be dead-lettered.
//
// The queue's own expiry (x-expires) is at the end.
#include <algorithm>

#include "broker/common/log.hpp"
#include "broker/expiry/deadline_scheduler.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

namespace {

// Past this many empty slots (and half the window) they are compacted away.
constexpr std::size_t compact_threshold = 4096;

}  // namespace

std::int64_t queue::expiry_for(const message& msg, std::int64_t now_ms) const {
  std::int64_t ttl = -1;
  if (args_.message_ttl_ms) ttl = *args_.message_ttl_ms;
  if (msg.expiration_ms >= 0 && (ttl < 0 || msg.expiration_ms < ttl)) ttl = msg.expiration_ms;
  if (ttl < 0) return 0;
  return now_ms + ttl;
}

void queue::index_expiry(std::int64_t expires_at_ms, std::uint64_t seq, std::uint64_t bytes) {
  expiry_index_.emplace(std::pair{expires_at_ms, seq}, bytes);
  schedule_expiry();
}

void queue::unindex_expiry(const queued_message& m) {
  if (m.expires_at_ms != 0) expiry_index_.erase({m.expires_at_ms, m.seq});
}

void queue::schedule_expiry() {
  if (expiry_index_.empty() || timers_ == nullptr) return;
  // Expired means strictly past the expiry time, so wake one millisecond after it.
  std::int64_t next = expiry_index_.begin()->first.first + 1;
  if (expiry_scheduled_at_ != 0 && expiry_scheduled_at_ <= next) return;
  expiry_scheduled_at_ = next;
  timers_->at(next, [token = alive_.watch()] {
    if (*token == nullptr) return;
    queue& q = **token;
    q.expiry_scheduled_at_ = 0;
    q.expire(wall_clock_ms());
    q.schedule_expiry();
  });
}

void queue::expire(std::int64_t now_ms) {
  std::vector<std::uint64_t> paged;
  // Re-read the front every time: dead-lettering can route back into this queue.
  while (!expiry_index_.empty() && expiry_index_.begin()->first.first < now_ms) {
    auto first = expiry_index_.begin();
    std::uint64_t seq = first->first.second;
    std::uint64_t bytes = first->second;
    expiry_index_.erase(first);
    ready_lane& lane = lane_of(seq);
    if (seq <= lane.last_in_memory_seq) {
      expire_in_memory(lane, seq);
    } else {
      ready_bytes_ -= std::min(ready_bytes_, bytes);
      lane.paged_count -= std::min<std::uint64_t>(lane.paged_count, 1);
      paged.push_back(seq);
    }
  }
  if (!paged.empty()) expire_paged(paged);
  for (ready_lane& lane : lanes_) {
    drop_expired_front(lane);
    if (lane.expired_in_place > compact_threshold && lane.expired_in_place > lane.ready.size() / 2) {
      std::erase_if(lane.ready, [](const queued_message& m) { return m.msg == nullptr; });
      lane.expired_in_place = 0;
    }
  }
  flush_writes();
}

void queue::expire_in_memory(ready_lane& lane, std::uint64_t seq) {
  auto it = std::lower_bound(lane.ready.begin(), lane.ready.end(), seq,
                             [](const queued_message& q, std::uint64_t s) { return q.seq < s; });
  if (it == lane.ready.end() || it->seq != seq || it->msg == nullptr) return;
  queued_message m = std::move(*it);
  it->msg = nullptr;
  ++lane.expired_in_place;
  ready_bytes_ -= std::min<std::uint64_t>(ready_bytes_, m.msg->body.size());
  dead_letter(std::move(m), death_reason::expired);
}

void queue::expire_paged(std::vector<std::uint64_t>& seqs) {
  storage::store* from = page_store();
  if (!args_.dead_letters()) {
    std::vector<storage::operation> removals;
    for (std::uint64_t seq : seqs) removals.emplace_back(storage::remove_entry{store_id_, seq});
    from->submit(std::move(removals), {});
    return;
  }
  // Dead-lettering needs the content: read each one back (seqs are keys,
  // so "one entry after seq - 1" is exactly that entry).
  std::vector<storage::operation> loads;
  std::vector<std::shared_ptr<std::vector<storage::loaded_entry>>> results;
  for (std::uint64_t seq : seqs) {
    expiring_paged_.insert(seq);
    results.push_back(std::make_shared<std::vector<storage::loaded_entry>>());
    loads.emplace_back(storage::load_entries{store_id_, seq - 1, 1, results.back()});
  }
  from->submit(std::move(loads), [token = alive_.watch(), results, seqs, from](bool ok) {
    if (*token == nullptr) return;
    queue& q = **token;
    if (!ok) log::error("queue '" + q.name_ + "': reading expired messages back failed; they stay on disk");
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      q.expiring_paged_.erase(seqs[i]);
      std::vector<storage::loaded_entry>& found = *results[i];
      if (found.empty() || found.front().entry.seq != seqs[i]) continue;  // purged or deleted meanwhile
      storage::loaded_entry& e = found.front();
      bool stored = q.persisted_ && e.persistent;
      if (!stored) from->submit({storage::remove_entry{q.store_id_, e.entry.seq}}, {});
      q.dead_letter(queued_message{rebuild(e), e.entry.seq, e.entry.delivered, stored, e.entry.delivery_count,
                                   e.entry.expires_at_ms},
                    death_reason::expired);
    }
    q.flush_writes();
  });
}

bool queue::skip_loaded(const storage::loaded_entry& e) const {
  if (expiring_paged_.contains(e.entry.seq) || removed_paged_.contains(e.entry.seq)) return true;
  // Indexed when appended (or restored) and no longer in the index: it expired while on disk and is handled.
  return e.entry.expires_at_ms != 0 && !expiry_index_.contains({e.entry.expires_at_ms, e.entry.seq});
}

// ---- x-expires: the queue itself goes after being unused that long ----
// Unused as in RabbitMQ: no consumers, and no declare or basic.get. One
// pending wake-up per queue; it re-arms itself while the queue is in use.

void queue::touch() {
  if (!args_.expires_ms) return;
  last_used_ms_ = wall_clock_ms();
  schedule_unused_check();
}

void queue::schedule_unused_check() {
  if (!args_.expires_ms || unused_check_pending_ || timers_ == nullptr) return;
  unused_check_pending_ = true;
  timers_->at(last_used_ms_ + *args_.expires_ms, [token = alive_.watch(), generation = unused_generation_] {
    if (*token == nullptr) return;
    queue& q = **token;
    if (generation != q.unused_generation_) return;  // policies were applied since; their wake-up is armed
    q.unused_check_pending_ = false;
    if (!q.consumers_.empty() || !q.args_.expires_ms) return;  // the last consumer's cancel touches the queue again
    if (wall_clock_ms() < q.last_used_ms_ + *q.args_.expires_ms) {
      q.schedule_unused_check();
    } else if (q.on_unused_) {
      auto hook = q.on_unused_;  // the hook deletes q, and with it q.on_unused_
      hook(q);
    }
  });
}

}  // namespace roost
