// Paging a deep queue: messages past the in-memory window live only in a
// store and are read back, in seq order, when the window runs low.
//
// Loads go through the store like writes, so a load sees every entry
// submitted before it; each message's entry is submitted before the next
// message is enqueued, so what a load finds is always a contiguous run of
// seqs right after what is in memory.
#include <memory>

#include "broker/amqp/properties.hpp"
#include "broker/log.hpp"
#include "broker/queue.hpp"
#include "broker/wall_clock.hpp"

namespace roost {

storage::store* queue::page_store() const { return persisted_ ? storage_->durable : storage_->scratch; }

void queue::page_out(const message_ref& msg, const storage::entry_record& stored_entry, bool stored) {
  ++paged_count_;
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

void queue::restore(std::uint64_t store_id, std::uint64_t count, std::uint64_t max_seq) {
  store_id_ = store_id;
  paged_count_ = count;
  next_seq_ = max_seq + 1;
  last_in_memory_seq_ = 0;
  unindexed_up_to_ = max_seq;
  refill();
}

void queue::refill() {
  if (loading_ || paged_count_ == 0 || storage_ == nullptr) return;
  std::size_t window = storage_->queue_window;
  std::size_t in_memory = ready_.size() - expired_in_place_;
  if (in_memory > window / 2) return;
  loading_ = true;
  auto into = std::make_shared<std::vector<storage::loaded_entry>>();
  storage::store* from = page_store();
  std::size_t limit = window - std::min(window, in_memory);
  // The completion may run after this queue is deleted: check it still exists.
  from->submit({storage::load_entries{store_id_, last_in_memory_seq_, limit, into}},
               [token = alive_.watch(), into, from](bool ok) {
                 if (*token == nullptr) return;
                 queue& q = **token;
                 q.loading_ = false;
                 if (ok) q.accept_loaded(*into, *from);
                 else log::error("queue '" + q.name_ + "': reading paged messages failed; will retry");
                 q.wake_load_waiters();
               });
}

void queue::when_loaded(std::function<void()> f) {
  refill();
  if (!loading_) {
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

void queue::accept_loaded(std::vector<storage::loaded_entry>& loaded, storage::store& from) {
  if (loaded.empty()) {
    // The store has nothing we counted as paged (a failed write): stop waiting for it.
    log::warning("queue '" + name_ + "': " + std::to_string(paged_count_) + " paged messages were not found");
    paged_count_ = 0;
    last_in_memory_seq_ = next_seq_ - 1;
    return;
  }
  std::vector<storage::operation> drop;
  std::int64_t now = wall_clock_ms();
  std::uint64_t accepted = 0;
  std::vector<queued_message> expired;
  for (storage::loaded_entry& e : loaded) {
    last_in_memory_seq_ = std::max(last_in_memory_seq_, e.entry.seq);
    if (skip_loaded(e)) continue;
    ++accepted;
    bool stored = persisted_ && e.persistent;
    // A transient page is not needed in the store once it is back in memory.
    if (!stored) drop.emplace_back(storage::remove_entry{e.entry.queue_id, e.entry.seq});
    queued_message m{rebuild(e), e.entry.seq, e.entry.delivered, stored, e.entry.delivery_count,
                     e.entry.expires_at_ms};
    bool restored = e.entry.seq <= unindexed_up_to_;
    if (restored) ready_bytes_ += m.msg->body.size();
    if (restored && m.expires_at_ms != 0 && m.expires_at_ms < now) {
      ready_bytes_ -= m.msg->body.size();
      expired.push_back(std::move(m));  // expired while the broker was down
      continue;
    }
    if (restored && m.expires_at_ms != 0) index_expiry(m.expires_at_ms, m.seq, m.msg->body.size());
    ready_.push_back(std::move(m));
  }
  paged_count_ -= std::min<std::uint64_t>(paged_count_, accepted);
  if (!drop.empty()) from.submit(std::move(drop), {});
  for (queued_message& m : expired) dead_letter(std::move(m), death_reason::expired);
  dispatch();
}

message_ref queue::rebuild(storage::loaded_entry& e) {
  auto msg = std::make_shared<message>();
  msg->exchange = std::move(e.exchange);
  msg->routing_key = std::move(e.routing_key);
  msg->properties = std::move(e.properties);
  msg->body = std::move(e.body);
  msg->delivery_mode = amqp::scan_properties(msg->properties).delivery_mode;
  msg->store_id = e.entry.message_id;
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
