// Which queues hold a connection back, and waking it when they let go.
#include "broker/flow/publisher_holds.hpp"

#include <algorithm>
#include <chrono>

#include "broker/model/vhost.hpp"

namespace roost {

bool publisher_holds::held_by(const queue& q) const {
  return std::any_of(waits_.begin(), waits_.end(), [&](const wait& w) { return w.queue_id == q.id(); });
}

void publisher_holds::add(queue& q, const wake_fn& wake) { register_with(q, waits_.emplace_back(wait{q.id(), 0}), wake); }

bool publisher_holds::still_held(vhost* vh, const wake_fn& wake) {
  if (waits_.empty()) return false;
  auto now = std::chrono::steady_clock::now();
  std::erase_if(waits_, [&](wait& w) {
    queue* q = vh != nullptr ? vh->queue_by_id(w.queue_id) : nullptr;
    if (q == nullptr || !q->flow().holding(now)) return true;
    // Held again after a release that spent our wake-up: ask for another.
    if (w.registered_at != q->flow().releases()) register_with(*q, w, wake);
    return false;
  });
  return !waits_.empty();
}

void publisher_holds::register_with(queue& q, wait& w, const wake_fn& wake) {
  w.registered_at = q.flow().releases();
  q.flow().wait(wake);
}

}  // namespace roost
