// Queue ordering and dispatch. Requeue inserts by sequence number: after a
// channel closes with unacked messages they return where they were, ahead
// of anything published later. Paging lives in queue_paging.cpp.
#include "broker/queue.hpp"

#include <algorithm>

#include "broker/dead_letter.hpp"
#include "broker/errors.hpp"
#include "broker/log.hpp"
#include "broker/publish_confirm.hpp"
#include "broker/wall_clock.hpp"
#include "broker/queue_arguments.hpp"

namespace roost {

queue::queue(std::uint32_t id, std::string name, queue_options options, storage_context* storage)
    : id_(id),
      name_(std::move(name)),
      options_(std::move(options)),
      storage_(storage) {
  // Declare has validated them already (with the vhost in the texts). A
  // queue stored by an older roost, which did not check, may still hold
  // arguments that fail now: it keeps working, without them.
  try {
    args_ = parse_queue_arguments(options_.arguments, "queue '" + name_ + "'");
  } catch (const channel_error& e) {
    log::warning(std::string("ignoring the arguments of queue '") + name_ + "': " + e.what());
  }
  if (storage_ != nullptr) {
    store_id_ = storage_->next_queue_id++;
    persisted_ = durable() && !options_.exclusive && storage_->durable != nullptr;
  }
  touch();
}

queue::~queue() {
  // Whoever waits for a page load must hear that it will not come.
  wake_load_waiters();
}

storage::entry_record queue::append(message_ref msg, bool stored) {
  std::uint64_t seq = next_seq_++;
  std::int64_t expires = 0;
  if (args_.message_ttl_ms || msg->expiration_ms >= 0) expires = expiry_for(*msg, wall_clock_ms());
  storage::entry_record entry{store_id_, seq, msg->store_id, 0, false, expires, 0};
  ready_bytes_ += msg->body.size();
  if (expires != 0) index_expiry(expires, seq, msg->body.size());
  if (paged_count_ > 0 || (storage_ != nullptr && ready_.size() >= storage_->queue_window)) {
    page_out(msg, entry, stored);
    return entry;
  }
  ready_.push_back(queued_message{std::move(msg), seq, false, stored, 0, expires});
  last_in_memory_seq_ = seq;
  return entry;
}

void queue::requeue(queued_message&& m) {
  m.redelivered = true;
  if (past_delivery_limit(m)) {
    dead_letter(std::move(m), death_reason::delivery_limit);
  } else if (m.expires_at_ms != 0 && m.expires_at_ms < wall_clock_ms()) {
    dead_letter(std::move(m), death_reason::expired);  // never delivered again
  } else {
    ready_bytes_ += m.msg->body.size();
    if (m.expires_at_ms != 0) index_expiry(m.expires_at_ms, m.seq, m.msg->body.size());
    // Usually the requeued message is older than everything ready: O(1) at the front.
    auto at = std::upper_bound(ready_.begin(), ready_.end(), m.seq,
                               [](std::uint64_t seq, const queued_message& q) { return seq < q.seq; });
    ready_.insert(at, std::move(m));
  }
}

void queue::settle(const queued_message& m) { settle_into(m, writes_); }

void queue::settle_into(const queued_message& m, std::vector<storage::operation>& ops) {
  if (!m.stored || !persisted_) return;
  ops.emplace_back(storage::remove_entry{store_id_, m.seq});
  if (m.msg->confirm) m.msg->confirm->copy_settled();
}

void queue::dead_letter(queued_message&& m, death_reason reason) {
  if (dead_letters_ != nullptr) {
    dead_letters_->dead_letter(*this, std::move(m), reason);
  } else {
    settle(m);
    flush_writes();
  }
}

void queue::flush_writes() {
  if (writes_.empty() || storage_ == nullptr || storage_->durable == nullptr) return;
  storage_->durable->submit(std::move(writes_), {});
  writes_.clear();
}

std::optional<queued_message> queue::take() {
  touch();
  if (!expiry_index_.empty()) expire(wall_clock_ms());
  std::optional<queued_message> m = pop_ready();
  if (m) mark_delivered(*m);
  flush_writes();
  refill();
  return m;
}

void queue::drop_expired_front() {
  while (!ready_.empty() && ready_.front().msg == nullptr) {
    ready_.pop_front();
    --expired_in_place_;
  }
}

std::optional<queued_message> queue::pop_ready() {
  drop_expired_front();
  if (ready_.empty()) return std::nullopt;
  queued_message m = std::move(ready_.front());
  ready_.pop_front();
  ready_bytes_ -= std::min<std::uint64_t>(ready_bytes_, m.msg->body.size());
  unindex_expiry(m);
  return m;
}

std::size_t queue::purge() {
  std::size_t n = ready_count();
  std::vector<storage::operation> ops;
  for (const queued_message& m : ready_)
    if (m.msg != nullptr && m.stored && persisted_) ops.emplace_back(storage::remove_entry{store_id_, m.seq});
  ready_.clear();
  expired_in_place_ = 0;
  ready_bytes_ = 0;
  expiry_index_.clear();
  if (paged_count_ > 0) ops.emplace_back(storage::purge_queue{store_id_, last_in_memory_seq_ + 1});
  if (!ops.empty()) page_store()->submit(std::move(ops), {});
  paged_count_ = 0;
  last_in_memory_seq_ = next_seq_ - 1;
  return n;
}

void queue::erase_from_store() {
  if (persisted_) storage_->durable->submit({storage::delete_queue{store_id_}}, {});
  else if (paged_count_ > 0) page_store()->submit({storage::delete_queue{store_id_}}, {});
}

void queue::mark_delivered(queued_message& m) {
  // Only the first delivery needs recording: after a crash the entry then
  // comes back redelivered, as RabbitMQ's do.
  if (!m.stored || m.redelivered || !persisted_) return;
  storage::entry_record e;
  e.queue_id = store_id_;
  e.seq = m.seq;
  e.message_id = m.msg->store_id;
  e.delivered = true;
  e.delivery_count = m.delivery_count;
  e.expires_at_ms = m.expires_at_ms;
  writes_.emplace_back(storage::update_entry{e});
}

void queue::add_consumer(consumer* c) {
  consumers_.push_back(c);
  had_consumer_ = true;
  touch();
  dispatch();
}

bool queue::remove_consumer(consumer* c) {
  auto it = std::find(consumers_.begin(), consumers_.end(), c);
  if (it == consumers_.end()) return false;
  std::size_t index = static_cast<std::size_t>(it - consumers_.begin());
  consumers_.erase(it);
  touch();
  if (next_consumer_ > index) --next_consumer_;
  if (next_consumer_ >= consumers_.size()) next_consumer_ = 0;
  return true;
}

bool queue::has_exclusive_consumer() const {
  return std::any_of(consumers_.begin(), consumers_.end(), [](const consumer* c) { return c->exclusive(); });
}

void queue::detach_consumers() {
  auto leaving = std::move(consumers_);
  consumers_.clear();
  next_consumer_ = 0;
  for (consumer* c : leaving) c->queue_deleted(*this);
}

consumer* queue::next_consumer_with_credit() {
  // Single active consumer: the longest-attached one, or nobody while it has no credit.
  if (args_.single_active_consumer) return consumers_.front()->can_take() ? consumers_.front() : nullptr;
  // O(consumers) when most are saturated; typical queues have a handful.
  for (std::size_t tried = 0; tried < consumers_.size(); ++tried) {
    consumer* c = consumers_[next_consumer_];
    next_consumer_ = (next_consumer_ + 1) % consumers_.size();
    if (c->can_take()) return c;
  }
  return nullptr;
}

void queue::dispatch() {
  // A delivery can make a channel requeue or cancel into this queue; the
  // outer loop picks that up, so nested calls do nothing.
  if (dispatching_) return;
  dispatching_ = true;
  // Expired messages are never delivered, and a queue over its length limit sheds its head first.
  if (!expiry_index_.empty()) expire(wall_clock_ms());
  if (args_.limits_length()) enforce_length_limit();
  while (!consumers_.empty()) {
    drop_expired_front();
    if (ready_.empty()) break;
    consumer* c = next_consumer_with_credit();
    if (c == nullptr) break;
    queued_message m = *pop_ready();
    mark_delivered(m);
    c->deliver(*this, std::move(m));
  }
  dispatching_ = false;
  flush_writes();
  refill();
}

}  // namespace roost
