// The deliveries a channel has sent and not yet had acknowledged, by
// delivery tag.
//
// Tags only grow, so a deque in tag order gives O(log n) lookup and O(1)
// removal at the front, where acks usually land. An ack in the middle marks
// the entry settled; settled entries are dropped once they reach the front.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "broker/queue/queue.hpp"

namespace roost {

class channel_consumer;

struct unacked_delivery {
  std::uint64_t tag = 0;
  std::uint32_t queue_id = 0;
  queued_message entry;
  channel_consumer* owner = nullptr;  // null for basic.get, or once the consumer is cancelled
  bool settled = false;
};

class unacked_deliveries {
 public:
  void add(unacked_delivery d) {
    entries_.push_back(std::move(d));
    ++live_;
  }
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // Settles one tag (or, with multiple, every tag up to it; tag 0 with
  // multiple means all) and moves the settled deliveries to out, oldest
  // first. Returns false, settling nothing, if the tag is not outstanding.
  // Moving them out first lets the caller requeue, which may deliver to this
  // very channel and add entries, without invalidating anything here.
  bool settle(std::uint64_t tag, bool multiple, std::vector<unacked_delivery>& out);
  void settle_all(std::vector<unacked_delivery>& out) { settle(0, true, out); }
  // Forgets the consumer of every delivery it made (it was cancelled; its
  // deliveries stay outstanding on the channel).
  void orphan(const channel_consumer* owner);
  // Calls f(delivery) for every outstanding delivery, oldest first (the
  // admin API counts and browses unacked messages per queue).
  template <class F>
  void for_each(F&& f) const {
    for (const unacked_delivery& d : entries_)
      if (!d.settled) f(d);
  }

 private:
  void drop_settled_front();

  std::deque<unacked_delivery> entries_;
  std::size_t live_ = 0;
};

}  // namespace roost
