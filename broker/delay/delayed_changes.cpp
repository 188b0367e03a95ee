// An operator's changes to the delay schedule: cancel, reschedule and
// release now. Each is one pass over the schedule (O(n): for an operator,
// not for the publish path) and, for the stored messages among those
// chosen, one store submission, so a restart finds the schedule as changed.
#include "broker/delay/delayed_delivery.hpp"
#include "broker/model/vhost.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

void delayed_delivery::list(const std::function<void(const pending_message&)>& f) const {
  schedule_.for_each([&](std::int64_t due, std::uint64_t arrival, const held& h) {
    f(pending_message{arrival, due, h.msg, h.queue_ids});
  });
}

std::size_t delayed_delivery::cancel(const pending_pick& pick) {
  std::vector<held> cancelled;
  std::size_t n = schedule_.take_if(
      [&](std::int64_t due, std::uint64_t arrival, const held& h) {
        return pick(pending_message{arrival, due, h.msg, h.queue_ids});
      },
      cancelled);
  std::vector<storage::operation> writes;
  for (const held& h : cancelled)
    if (h.stored) writes.emplace_back(storage::remove_delayed{h.msg->store_id});
  if (!writes.empty()) storage_->durable->submit(std::move(writes), {});
  return n;
}

std::size_t delayed_delivery::reschedule(const pending_pick& pick, std::int64_t due_ms) {
  std::vector<storage::operation> writes;
  std::size_t n = schedule_.reschedule_if(
      [&](std::int64_t due, std::uint64_t arrival, const held& h) {
        if (!pick(pending_message{arrival, due, h.msg, h.queue_ids})) return false;
        if (!h.stored) return true;
        // The stored delay is replaced whole: its row, its targets and the content it keeps alive.
        const message& m = *h.msg;
        storage::delayed_record record{m.store_id, due_ms, {}};
        for (std::uint32_t id : h.queue_ids)
          if (const queue* q = vhost_.queue_by_id(id); q != nullptr && q->persisted())
            record.queue_ids.push_back(q->store_id());
        storage::message_content content{m.store_id, h.msg, m.exchange, m.routing_key, m.properties, m.body};
        writes.emplace_back(storage::remove_delayed{m.store_id});
        writes.emplace_back(storage::insert_message{content});
        writes.emplace_back(storage::insert_delayed{std::move(record)});
        return true;
      },
      due_ms);
  if (!writes.empty()) storage_->durable->submit(std::move(writes), {});
  if (due_ms <= now_ms()) release_due(now_ms());
  arm();
  return n;
}

}  // namespace roost
