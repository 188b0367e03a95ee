// Putting a routed message into its queues, shared by basic.publish and the
// admin API's publish so both store and deliver the same way.
//
// Appends the message to every queue, writes the copies that must survive a
// restart (persistent message, persisted queue) to the durable store in one
// submission, and only then lets the queues deliver, so that an ack can
// never reach the store ahead of the entry it removes. Broker thread.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/model/message.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/queue/queue.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

// Appends msg to q as a publish, unless q is full with x-overflow
// reject-publish(-dlx) and refuses it (then false). A stored copy's entry is
// added to `writes` for the caller to submit before dispatching.
inline bool append_published(queue& q, const message_ref& msg, bool stored, std::vector<storage::operation>& writes) {
  if (stream* s = q.as_stream()) {
    q.stats().add(message_event::publish);
    s->append(msg, writes);
    return true;
  }
  if (q.refuses(*msg)) {
    q.refused(msg);
    return false;
  }
  q.stats().add(message_event::publish);
  storage::entry_record entry = q.append(msg, stored);
  if (stored) writes.emplace_back(storage::insert_entry{entry});
  return true;
}

struct enqueue_result {
  bool stored = false;   // some copies went to the durable store
  bool refused = false;  // a full queue with x-overflow reject-publish(-dlx) refused it: nack the publisher
};

// on_stored(copies) is called when some copies go to the store and no queue
// refused the message, before the submission; it returns the completion to
// run at commit (confirms). The message must already have its store id.
template <class OnStored>
enqueue_result enqueue_routed(storage_context& storage, const message_ref& msg, const std::vector<queue*>& queues,
                              OnStored&& on_stored) {
  enqueue_result result;
  std::vector<storage::operation> writes;
  bool streamed = false;
  std::uint32_t copies = 0;  // entries of queues (not streams), which refer to the message's row
  for (queue* q : queues) {
    std::size_t before = writes.size();
    if (!append_published(*q, msg, msg->persistent() && q->persisted(), writes)) result.refused = true;
    if (q->as_stream() != nullptr) streamed = true;
    else copies += static_cast<std::uint32_t>(writes.size() - before);
  }
  result.stored = !writes.empty();
  if (result.stored) {
    storage::completion done;
    // A stream's copy is never settled by an ack: then only the commit confirms.
    if (!result.refused) done = on_stored(streamed ? 0 : copies);
    // A stream stores a row of its own.
    if (copies > 0) {
      storage::message_content content{msg->store_id, msg,           msg->exchange,
                                       msg->routing_key, msg->properties, msg->body};
      writes.insert(writes.begin(), storage::insert_message{content});
    }
    storage.durable->submit(std::move(writes), std::move(done));
  }
  // Only now, with the entries submitted, may deliveries (and so acks) happen.
  for (queue* q : queues) q->dispatch();
  return result;
}

}  // namespace roost
