#include "broker/publish/append_copies.hpp"

#include "broker/stream/stream.hpp"

namespace roost {

void append_copies(storage_context* storage, std::shared_ptr<message> msg, const std::vector<queue*>& targets,
                   std::vector<storage::operation>& ops) {
  bool stored_anywhere = false;
  if (msg->persistent() && storage != nullptr && storage->durable != nullptr)
    for (queue* q : targets) stored_anywhere = stored_anywhere || q->persisted();
  if (stored_anywhere) msg->store_id = storage->next_message_id++;
  message_ref shared_msg = std::move(msg);
  std::size_t first_entry = ops.size();
  bool shared = false;  // a queue's entry refers to the message's row (a stream stores its own)
  for (queue* q : targets) {
    if (stream* s = q->as_stream()) {
      s->append(shared_msg, ops);
      continue;
    }
    bool stored = stored_anywhere && q->persisted();
    storage::entry_record entry = q->append_dead_lettered(shared_msg, stored);
    if (stored && entry.seq != 0) {
      ops.emplace_back(storage::insert_entry{entry});
      shared = true;
    }
  }
  if (shared) {
    const message& m = *shared_msg;
    storage::message_content content{m.store_id, shared_msg, m.exchange, m.routing_key, m.properties, m.body};
    ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(first_entry), storage::insert_message{content});
  }
}

}  // namespace roost
