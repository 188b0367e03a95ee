// Queue ordering and dispatch. Requeue inserts by sequence number: after a
// channel closes with unacked messages they return where they were, ahead
// of anything published later.
#include "broker/queue.hpp"

#include <algorithm>

namespace roost {

queue::queue(std::uint32_t id, std::string name, queue_options options)
    : id_(id), name_(std::move(name)), options_(std::move(options)) {}

void queue::enqueue(message_ref msg) {
  ready_.push_back(queued_message{std::move(msg), next_seq_++, false});
  dispatch();
}

void queue::requeue(queued_message&& m) {
  m.redelivered = true;
  // Usually the requeued message is older than everything ready: O(1) at the front.
  auto at = std::upper_bound(ready_.begin(), ready_.end(), m.seq,
                             [](std::uint64_t seq, const queued_message& q) { return seq < q.seq; });
  ready_.insert(at, std::move(m));
  dispatch();
}

std::optional<queued_message> queue::take() {
  if (ready_.empty()) return std::nullopt;
  queued_message m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

std::size_t queue::purge() {
  std::size_t n = ready_.size();
  ready_.clear();
  return n;
}

void queue::add_consumer(consumer* c) {
  consumers_.push_back(c);
  had_consumer_ = true;
  dispatch();
}

bool queue::remove_consumer(consumer* c) {
  auto it = std::find(consumers_.begin(), consumers_.end(), c);
  if (it == consumers_.end()) return false;
  std::size_t index = static_cast<std::size_t>(it - consumers_.begin());
  consumers_.erase(it);
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
  while (!ready_.empty() && !consumers_.empty()) {
    consumer* c = next_consumer_with_credit();
    if (c == nullptr) break;
    queued_message m = std::move(ready_.front());
    ready_.pop_front();
    c->deliver(*this, std::move(m));
  }
  dispatching_ = false;
}

}  // namespace roost
