// Paging a deep queue: messages past the in-memory window live only in a
// store and are read back, in seq order, when the window runs low. Each
// priority lane pages on its own, in its own seq range.
//
// Loads go through the store like writes, so a load sees every entry
// submitted before it; each message's entry is submitted before the next
// message is enqueued, so what a load finds is always a contiguous run of
// the lane's seqs right after what is in memory.
#include <algorithm>
#include <memory>

#include "amqp/properties.hpp"
#include "broker/common/log.hpp"
#include "broker/queue/queue.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

storage::store* queue::page_store() const { return persisted_ ? storage_->durable : storage_->scratch; }

void queue::page_out(ready_lane& lane, const message_ref& msg, const storage::entry_record& stored_entry,
                     bool stored) {
  ++lane.paged_count;
  lane.last_paged_seq = stored_entry.seq;
  if (stored) return;  // already on its way to the durable store
  // A transient message (or any message of a non-durable queue) is written
  // to the paging store as it leaves memory; it is not durable there.
  storage::entry_record entry = stored_entry;
  entry.message_id = storage_->next_message_id++;
  storage::message_content content{entry.message_id, msg, msg->exchange, msg->routing_key, msg->properties,
                                   msg->body};
  content.persistent = false;
  page_store()->submit({storage::insert_message{content}, storage::insert_entry{entry}}, {});
}

void queue::restore(const storage::queue_summary& stored) {
  store_id_ = stored.queue.id;
  if (stream_) return stream_->restore(stored);
  for (const storage::lane_summary& summary : stored.lanes) {
    // Entries of a level the queue no longer has (its arguments could not be
    // read): give it a lane anyway, so they are still delivered.
    while (lanes_.size() <= summary.lane) add_lane();
    lanes_[summary.lane].paged_count = summary.entry_count;
    lanes_[summary.lane].last_paged_seq = summary.max_seq;
    next_counter_ = std::max(next_counter_, (summary.max_seq & (storage::lane_base(1) - 1)) + 1);
  }
  // Every entry is counted and indexed now, not when it is paged in, so
  // limits see the whole queue and TTLs (also those that passed while the
  // broker was down) fire on time wherever the message is.
  ready_bytes_ = stored.body_bytes;
  for (const storage::expiring_entry& e : stored.expiring)
    expiry_index_.emplace(std::pair{e.expires_at_ms, e.seq}, e.body_size);
  schedule_expiry();
  refill();
}

bool queue::loading() const {
  return std::any_of(lanes_.begin(), lanes_.end(), [](const ready_lane& l) { return l.loading; });
}

bool queue::head_on_disk() const {
  const ready_lane* head = head_lane();
  return head != nullptr && head->in_memory() == 0;
}

void queue::refill() {
  for (std::size_t l = 0; l < lanes_.size(); ++l) refill(l);
}

void queue::refill(std::size_t l) {
  ready_lane& lane = lanes_[l];
  if (lane.loading || lane.paged_count == 0 || storage_ == nullptr) return;
  std::size_t window = lane_window();
  if (lane.in_memory() > window / 2) return;
  lane.loading = true;
  auto into = std::make_shared<std::vector<storage::loaded_entry>>();
  storage::store* from = page_store();
  std::size_t limit = window - std::min(window, lane.in_memory());
  // The completion may run after this queue is deleted: check it still exists.
  from->submit({storage::load_entries{store_id_, lane.last_in_memory_seq, limit, into, storage::lane_base(l + 1)}},
               [token = alive_.watch(), into, from, l](bool ok) {
                 if (*token == nullptr) return;
                 queue& q = **token;
                 q.lanes_[l].loading = false;
                 if (ok) q.accept_loaded(l, *into, *from);
                 else log::error("queue '" + q.name_ + "': reading paged messages failed; will retry");
                 // A basic.get waits for the highest lanes too, not just the first one back.
                 if (!q.loading()) q.wake_load_waiters();
               });
}

void queue::when_loaded(std::function<void()> f) {
  refill();
  if (!loading()) {
    f();
    return;
  }
  load_waiters_.push_back(std::move(f));
}

void queue::wake_load_waiters() {
  auto waiters = std::move(load_waiters_);
  load_waiters_.clear();
  for (auto& f : waiters) f();
}

void queue::accept_loaded(std::size_t l, std::vector<storage::loaded_entry>& loaded, storage::store& from) {
  ready_lane& lane = lanes_[l];
  if (loaded.empty()) {
    // The store has nothing we counted as paged (a failed write): stop waiting for it.
    log::warning("queue '" + name_ + "': " + std::to_string(lane.paged_count) + " paged messages were not found");
    forget_paged(l);
    return;
  }
  std::vector<storage::operation> drop;
  std::uint64_t accepted = 0;
  for (storage::loaded_entry& e : loaded) {
    // Rows come in seq order, each past the last one in memory, unless a
    // purge ran while this load was in flight: it counted every seq issued
    // so far as gone (forget_paged), and what the load read is purged.
    if (e.entry.seq <= lane.last_in_memory_seq) continue;
    lane.last_in_memory_seq = e.entry.seq;
    if (skip_loaded(e)) continue;
    ++accepted;
    bool stored = persisted_ && e.persistent;
    // A transient page is not needed in the store once it is back in memory.
    if (!stored) drop.emplace_back(storage::remove_entry{e.entry.queue_id, e.entry.seq});
    lane.ready.push_back(queued_message{rebuild(e), e.entry.seq, e.entry.delivered, stored, e.entry.delivery_count,
                                        e.entry.expires_at_ms});
  }
  lane.paged_count -= std::min<std::uint64_t>(lane.paged_count, accepted);
  prune_removed(l);
  if (!drop.empty()) from.submit(std::move(drop), {});
  dispatch();
}

message_ref queue::rebuild(storage::loaded_entry& e) {
  std::shared_ptr<message> msg = message_from_store(e);
  if (e.entry.delivery_count > 0) {
    try {
      return with_delivery_count(*msg, e.entry.delivery_count);
    } catch (const amqp::decode_error&) {
      // delivered without the header, as when it was first requeued
    }
  }
  return msg;
}

}  // namespace roost
