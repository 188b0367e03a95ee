// Queue ordering and dispatch. Requeue inserts by sequence number: after a
// channel closes with unacked messages they return where they were, ahead
// of anything published later (in their priority lane). Paging lives in
// queue_paging.cpp.
#include "broker/queue/queue.hpp"

#include <algorithm>

#include "broker/common/log.hpp"
#include "broker/dead_letter/dead_letter.hpp"
#include "broker/expiry/wall_clock.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/publish_confirm.hpp"
#include "broker/queue/queue_arguments.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

queue::queue(std::uint32_t id, std::string name, queue_options options, queue_services services)
    : id_(id),
      name_(std::move(name)),
      options_(std::move(options)),
      storage_(services.storage),
      window_(services.window),
      timers_(services.timers),
      flow_(publisher_flow::for_window(services.window)) {
  // Declare has validated them already (with the vhost in the texts). A
  // queue stored by an older roost, which did not check, may still hold
  // arguments that fail now: it keeps working, without them.
  try {
    std::string what = "queue '" + name_ + "'";
    type_ = parse_queue_type(options_.arguments, what);
    if (type_ == queue_type::stream)
      stream_ = std::make_unique<stream>(*this, services.storage, parse_stream_arguments(options_.arguments, what));
    else
      args_ = parse_queue_arguments(options_.arguments, what);
  } catch (const channel_error& e) {
    log::warning(std::string("ignoring the arguments of queue '") + name_ + "': " + e.what());
  }
  declared_args_ = args_;
  while (lanes_.size() < args_.priority_levels()) add_lane();
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

std::size_t queue::ready_count() const {
  if (stream_) return stream_->log().message_count();
  std::size_t n = 0;
  for (const ready_lane& lane : lanes_) n += lane.in_memory() + lane.paged_count;
  return n;
}

void queue::add_lane() {
  ready_lane& lane = lanes_.emplace_back();
  lane.last_in_memory_seq = storage::lane_base(lanes_.size() - 1);  // nothing of it in memory yet
}

void queue::forget_paged(std::size_t l) {
  lanes_[l].paged_count = 0;
  lanes_[l].last_in_memory_seq = storage::lane_base(l) | (next_counter_ - 1);
  prune_removed(l);
}

std::size_t queue::lane_window() const {
  return std::max<std::size_t>(1, window_ / lanes_.size());
}

storage::entry_record queue::append(message_ref msg, bool stored) {
  std::size_t l = std::min<std::size_t>(msg->priority, lanes_.size() - 1);
  ready_lane& lane = lanes_[l];
  std::uint64_t seq = storage::lane_base(l) | next_counter_++;
  std::int64_t expires = 0;
  if (args_.message_ttl_ms || msg->expiration_ms >= 0) {
    appended_at_ms_ = wall_clock_ms();
    expires = expiry_for(*msg, appended_at_ms_);
  }
  storage::entry_record entry{store_id_, seq, msg->store_id, 0, false, expires, 0};
  ready_bytes_ += msg->body.size();
  if (expires != 0) index_expiry(expires, seq, msg->body.size());
  if (lane.paged_count > 0 || (storage_ != nullptr && lane.ready.size() >= lane_window())) {
    page_out(lane, msg, entry, stored);
  } else {
    lane.ready.push_back(queued_message{std::move(msg), seq, false, stored, 0, expires});
    lane.last_in_memory_seq = seq;
  }
  flow_.appended(ready_count(), !consumers_.empty());
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
    std::deque<queued_message>& ready = lane_of(m.seq).ready;
    auto at = std::upper_bound(ready.begin(), ready.end(), m.seq,
                               [](std::uint64_t seq, const queued_message& q) { return seq < q.seq; });
    ready.insert(at, std::move(m));
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
  if (stream_) stream_->flush_offsets();
  if (writes_.empty() || storage_ == nullptr || storage_->durable == nullptr) return;
  storage_->durable->submit(std::move(writes_), {});
  writes_.clear();
}

std::optional<queued_message> queue::take() {
  if (stream_) return std::nullopt;  // a stream is read by consumers only (basic.get is refused before this)
  touch();
  if (!expiry_index_.empty()) expire(wall_clock_ms());
  std::optional<queued_message> m = pop_ready();
  if (m) mark_delivered(*m);
  flush_writes();
  refill();
  return m;
}

void queue::drop_expired_front(ready_lane& lane) {
  while (!lane.ready.empty() && lane.ready.front().msg == nullptr) {
    lane.ready.pop_front();
    --lane.expired_in_place;
  }
}

const ready_lane* queue::head_lane() const {
  for (auto lane = lanes_.rbegin(); lane != lanes_.rend(); ++lane)
    if (lane->in_memory() > 0 || lane->paged_count > 0) return &*lane;
  return nullptr;
}

ready_lane* queue::front_lane() {
  const ready_lane* head = head_lane();
  // Its next messages are being read back: lower priorities wait for them.
  if (head == nullptr || head->in_memory() == 0) return nullptr;
  ready_lane& lane = lanes_[static_cast<std::size_t>(head - lanes_.data())];
  drop_expired_front(lane);
  return &lane;
}

queued_message queue::pop_front(ready_lane& lane) {
  queued_message m = std::move(lane.ready.front());
  lane.ready.pop_front();
  ready_bytes_ -= std::min<std::uint64_t>(ready_bytes_, m.msg->body.size());
  unindex_expiry(m);
  flow_.drained(ready_count());
  return m;
}

std::optional<queued_message> queue::pop_ready() {
  ready_lane* lane = front_lane();
  if (lane == nullptr) return std::nullopt;
  return pop_front(*lane);
}

std::size_t queue::purge() {
  if (stream_) return 0;  // refused before this, as RabbitMQ refuses it
  std::size_t n = ready_count();
  std::vector<storage::operation> ops;
  for (std::size_t l = 0; l < lanes_.size(); ++l) {
    ready_lane& lane = lanes_[l];
    for (const queued_message& m : lane.ready)
      if (m.msg != nullptr && m.stored && persisted_) ops.emplace_back(storage::remove_entry{store_id_, m.seq});
    if (lane.paged_count > 0)
      ops.emplace_back(storage::purge_queue{store_id_, lane.last_in_memory_seq + 1, storage::lane_base(l + 1)});
    lane.ready.clear();
    lane.expired_in_place = 0;
    forget_paged(l);
  }
  ready_bytes_ = 0;
  expiry_index_.clear();
  if (!ops.empty()) page_store()->submit(std::move(ops), {});
  flow_.drained(0);
  return n;
}

void queue::erase_from_store() {
  bool paged = std::any_of(lanes_.begin(), lanes_.end(), [](const ready_lane& l) { return l.paged_count > 0; });
  if (persisted_) storage_->durable->submit({storage::delete_queue{store_id_}}, {});
  else if (paged) page_store()->submit({storage::delete_queue{store_id_}}, {});
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
  if (stream_) stream_->detach(c);
  touch();
  if (next_consumer_ > index) --next_consumer_;
  if (next_consumer_ >= consumers_.size()) next_consumer_ = 0;
  if (consumers_.empty()) flow_.release();  // nobody to wait for
  return true;
}

bool queue::has_exclusive_consumer() const {
  return std::any_of(consumers_.begin(), consumers_.end(), [](const consumer* c) { return c->exclusive(); });
}

void queue::detach_consumers() {
  auto leaving = std::move(consumers_);
  consumers_.clear();
  next_consumer_ = 0;
  flow_.release();
  if (stream_)
    for (consumer* c : leaving) stream_->detach(c);  // its readers must not outlive their consumers
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
  if (stream_) return stream_->dispatch();
  // A delivery can make a channel requeue or cancel into this queue; the
  // outer loop picks that up, so nested calls do nothing.
  if (dispatching_) return;
  dispatching_ = true;
  // Expired messages are never delivered, and a queue over its length limit sheds its head first.
  // Right after an append, expiry is judged as of that append: a message
  // with TTL 0 reaches a consumer that can take it at once (RabbitMQ's
  // rule) even when the clock ticked over between the two.
  if (!expiry_index_.empty()) {
    std::int64_t now = wall_clock_ms();
    expire(appended_at_ms_ != 0 ? std::min(now, appended_at_ms_) : now);
  }
  appended_at_ms_ = 0;
  if (args_.limits_length()) enforce_length_limit();
  while (!consumers_.empty()) {
    ready_lane* lane = front_lane();
    if (lane == nullptr) break;
    consumer* c = next_consumer_with_credit();
    if (c == nullptr) break;
    queued_message m = pop_front(*lane);
    mark_delivered(m);
    c->deliver(*this, std::move(m));
  }
  dispatching_ = false;
  flush_writes();
  refill();
}

}  // namespace roost
