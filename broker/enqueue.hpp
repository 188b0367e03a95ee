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

#include "broker/message.hpp"
#include "broker/queue.hpp"
#include "broker/storage_context.hpp"

namespace roost {

// on_stored(copies) is called when some copies go to the store, before the
// submission; it returns the completion to run at commit (confirms). The
// message must already have its store id. Returns whether copies were stored.
template <class OnStored>
bool enqueue_routed(storage_context& storage, const message_ref& msg, const std::vector<queue*>& queues,
                    OnStored&& on_stored) {
  std::vector<storage::operation> writes;
  for (queue* q : queues) {
    bool stored = msg->persistent() && q->persisted();
    q->stats().add(message_event::publish);
    std::uint64_t seq = q->append(msg, stored);
    if (stored) writes.emplace_back(storage::insert_entry{{q->store_id(), seq, msg->store_id}});
  }
  bool any_stored = !writes.empty();
  if (any_stored) {
    storage::completion done = on_stored(static_cast<std::uint32_t>(writes.size()));
    storage::message_content content{msg->store_id, msg, msg->exchange, msg->routing_key, msg->properties, msg->body};
    writes.insert(writes.begin(), storage::insert_message{content});
    storage.durable->submit(std::move(writes), std::move(done));
  }
  for (queue* q : queues) q->dispatch();
  return any_stored;
}

}  // namespace roost
