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

namespace roost {

storage::store* queue::page_store() const { return persisted_ ? storage_->durable : storage_->scratch; }

void queue::page_out(const message_ref& msg, std::uint64_t seq, bool stored) {
  ++paged_count_;
  if (stored) return;  // already on its way to the durable store
  // A transient message (or any message of a non-durable queue) is written
  // to the paging store as it leaves memory; it is not durable there.
  storage::entry_record entry;
  entry.queue_id = store_id_;
  entry.seq = seq;
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
  refill();
}

void queue::refill() {
  if (loading_ || paged_count_ == 0 || storage_ == nullptr) return;
  std::size_t window = storage_->queue_window;
  if (ready_.size() > window / 2) return;
  loading_ = true;
  auto into = std::make_shared<std::vector<storage::loaded_entry>>();
  storage::store* from = page_store();
  std::size_t limit = window - ready_.size();
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
  for (storage::loaded_entry& e : loaded) {
    auto msg = std::make_shared<message>();
    msg->exchange = std::move(e.exchange);
    msg->routing_key = std::move(e.routing_key);
    msg->properties = std::move(e.properties);
    msg->body = std::move(e.body);
    msg->delivery_mode = amqp::scan_properties(msg->properties).delivery_mode;
    msg->store_id = e.entry.message_id;
    bool stored = persisted_ && e.persistent;
    // A transient page is not needed in the store once it is back in memory.
    if (!stored) drop.emplace_back(storage::remove_entry{e.entry.queue_id, e.entry.seq});
    ready_.push_back(queued_message{std::move(msg), e.entry.seq, e.entry.delivered, stored});
    last_in_memory_seq_ = e.entry.seq;
  }
  paged_count_ -= std::min<std::uint64_t>(paged_count_, loaded.size());
  if (!drop.empty()) from.submit(std::move(drop), {});
  dispatch();
}

}  // namespace roost
