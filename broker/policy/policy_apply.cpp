// Applying policies: which policy each queue and exchange has, kept on the
// object itself, and what changes when that changes.
//
// Nothing here runs per message. A queue keeps its effective arguments in
// the same queue_arguments member it always read (and an exchange its
// alternate exchange in the same optional), so publish, route, enqueue and
// deliver read exactly what they read before policies existed. The work is
// done when a policy is set or cleared: one regex search per queue and
// exchange of the vhost for the changed policy, plus a full re-decision
// (one search per policy of that kind) only for the objects whose policy it
// was. A queue whose policy does not change is not touched.
#include "broker/common/log.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/policy/effective.hpp"
#include "broker/queue/queue.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

void queue::apply_policies(std::shared_ptr<const policy> p, std::shared_ptr<const policy> op) {
  policy_ = std::move(p);
  operator_policy_ = std::move(op);
  if (stream_) {
    stream_->set_arguments(effective_stream_arguments(stream_->declared_arguments(), options_.arguments,
                                                      policy_.get(), operator_policy_.get()));
    return;
  }
  args_ = effective_queue_arguments(declared_args_, options_.arguments, policy_.get(), operator_policy_.get());
  // RabbitMQ re-initialises the queue's policy-driven settings: the unused (x-expires) clock starts again.
  ++unused_generation_;
  unused_check_pending_ = false;
  touch();
  // Messages already in the queue keep the expiry they got on arrival (so
  // does RabbitMQ); a lower length limit sheds the head now.
  if (args_.limits_length()) dispatch();
}

void exchange::apply_policy(std::shared_ptr<const policy> p) {
  policy_ = std::move(p);
  alternate_ = effective_alternate_exchange(declared_alternate_, policy_.get());
}

void vhost::apply_policies(queue& q) {
  if (policies_.empty()) return;
  policy_ref p = policies_.best(policy_kind::regular, q.name(), policy_object::queue);
  policy_ref op = policies_.best(policy_kind::operator_policy, q.name(), policy_object::queue);
  if (p != nullptr || op != nullptr) q.apply_policies(std::move(p), std::move(op));
}

void vhost::apply_policies(exchange& x) {
  if (policies_.all(policy_kind::regular).empty()) return;
  if (policy_ref p = policies_.best(policy_kind::regular, x.name(), policy_object::exchange)) x.apply_policy(p);
}

void vhost::policy_changed(policy_kind kind, std::string_view name, const policy_ref& now) {
  // What applies to an object whose current policy is `current`.
  auto next_for = [&](const policy_ref& current, const std::string& object_name, policy_object object) {
    if (current != nullptr && current->name() == name) return policies_.best(kind, object_name, object);
    if (now != nullptr && (current == nullptr || now->outranks(*current)) && now->applies(object_name, object))
      return now;
    return current;
  };
  // Applying can dead-letter (a lower max-length), which must not disturb
  // the walk over queues_: decide first, then apply, by id.
  std::vector<std::pair<std::uint32_t, policy_ref>> queue_changes;
  for (const auto& [queue_name, q] : queues_) {
    const policy_ref& current = kind == policy_kind::regular ? q->applied_policy() : q->applied_operator_policy();
    policy_ref next = next_for(current, queue_name, policy_object::queue);
    if (next != current) queue_changes.emplace_back(q->id(), std::move(next));
  }
  for (auto& [id, next] : queue_changes) {
    queue* q = queue_by_id(id);
    if (q == nullptr) continue;
    if (kind == policy_kind::regular)
      q->apply_policies(std::move(next), q->applied_operator_policy());
    else
      q->apply_policies(q->applied_policy(), std::move(next));
  }
  if (kind != policy_kind::regular) return;  // no operator policy key concerns an exchange
  for (const auto& [exchange_name, x] : exchanges_) {
    policy_ref next = next_for(x->applied_policy(), exchange_name, policy_object::exchange);
    if (next != x->applied_policy()) x->apply_policy(std::move(next));
  }
}

bool vhost::put_policy(policy_ref p) {
  persist(storage::put_policy{p->record()});
  policy_ref previous = policies_.find(p->kind(), p->name());
  if (previous != nullptr && previous->same_effect(*p)) return false;  // as RabbitMQ: nothing is re-applied
  policies_.put(p);
  policy_changed(p->kind(), p->name(), p);
  return previous == nullptr;
}

bool vhost::delete_policy(policy_kind kind, std::string_view name) {
  if (policies_.remove(kind, name) == nullptr) return false;
  persist(storage::delete_policy{name_, std::string(name), kind == policy_kind::operator_policy});
  policy_changed(kind, name, nullptr);
  return true;
}

void vhost::restore_policy(policy_ref p) {
  restoring_ = true;
  put_policy(std::move(p));
  restoring_ = false;
}

}  // namespace roost
