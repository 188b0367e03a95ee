// Length limits (x-max-length, x-max-length-bytes, over ready messages
// only, with x-overflow) and the delivery limit (x-delivery-limit, which
// Roost honours on every queue, not only quorum queues as RabbitMQ does).
//
// drop-head is applied in dispatch(), after the publisher has submitted its
// store entries, so a dropped message's removal never reaches the store
// ahead of its insert. reject-publish refuses at the door, as RabbitMQ's
// would_overflow does: when one more message would go over a limit.
#include "amqp/wire.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

bool queue::refuses(const message& msg) const {
  if (args_.overflow == overflow_mode::drop_head) return false;
  return (args_.max_length && ready_count() + 1 > static_cast<std::uint64_t>(*args_.max_length)) ||
         (args_.max_length_bytes && ready_bytes_ + msg.body.size() > static_cast<std::uint64_t>(*args_.max_length_bytes));
}

void queue::refused(message_ref msg) {
  if (args_.overflow != overflow_mode::reject_publish_dlx) return;
  dead_letter(queued_message{std::move(msg), 0, false, false}, death_reason::maxlen);
}

storage::entry_record queue::append_dead_lettered(message_ref msg, bool stored) {
  if (refuses(*msg)) return {};  // RabbitMQ drops it, whatever the overflow mode
  return append(std::move(msg), stored);
}

void queue::enforce_length_limit() {
  if (args_.overflow != overflow_mode::drop_head) return;
  auto over = [this] {
    return (args_.max_length && ready_count() > static_cast<std::uint64_t>(*args_.max_length)) ||
           (args_.max_length_bytes && ready_bytes_ > static_cast<std::uint64_t>(*args_.max_length_bytes));
  };
  while (over()) {
    std::optional<queued_message> head = pop_ready();
    if (!head) break;  // the head is still being read back from disk: next dispatch
    dead_letter(std::move(*head), death_reason::maxlen);
  }
}

bool queue::past_delivery_limit(queued_message& m) {
  if (!args_.delivery_limit) return false;
  ++m.delivery_count;
  if (m.delivery_count > *args_.delivery_limit) return true;
  try {
    m.msg = with_delivery_count(*m.msg, m.delivery_count);
  } catch (const amqp::decode_error&) {
    // Unreadable properties cannot carry the header; the count still applies.
  }
  if (m.stored && persisted_) {
    storage::entry_record e{store_id_, m.seq, m.msg->store_id, m.delivery_count, true, m.expires_at_ms, 0};
    writes_.emplace_back(storage::update_entry{e});
  }
  return false;
}

}  // namespace roost
