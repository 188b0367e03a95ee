// Republishing a message to its queue's dead-letter exchange. Routing goes
// through the vhost like a publish (once per routing key: the message's key
// and CC keys, or the x-dead-letter-routing-key), then RabbitMQ's cycle rule
// removes queues the message would loop back to without any rejection.
#include "broker/dead_letter/dead_letter.hpp"

#include <algorithm>
#include <chrono>

#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/model/vhost.hpp"
#include "broker/publish/append_copies.hpp"

namespace roost {

namespace {

std::uint64_t now_seconds() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

std::vector<queue*> dead_letter_router::route(const dead_lettered& dl, death_reason reason) {
  std::vector<queue*> targets;
  exchange* x = vhost_.find_exchange(dl.msg->exchange);
  if (x == nullptr) return targets;  // RabbitMQ drops it (the exchange may come back later)
  // Routing reads only the key and the properties: a bodiless stand-in per extra key.
  message probe;
  probe.properties = dl.msg->properties;
  for (std::size_t i = 0; i < dl.routing_keys.size(); ++i) {
    const message* m = dl.msg.get();
    if (i > 0) {
      probe.routing_key = dl.routing_keys[i];
      m = &probe;
    }
    vhost_.route(*x, *m, routed_);
    targets.insert(targets.end(), routed_.begin(), routed_.end());
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  if (reason == death_reason::rejected) return targets;  // a rejection in the loop means a client is in it
  auto cycling = [&](queue* q) { return dead_letter_cycle(dl.headers, q->name()); };
  auto first = std::find_if(targets.begin(), targets.end(), cycling);
  if (first != targets.end()) {
    ++cycles_dropped_;
    // RabbitMQ warns each time; a loop can drop thousands a second, so this is debug.
    log::debug("dead-letter cycle: dropped a message that would have returned to queue '" + (*first)->name() + "'");
    targets.erase(std::remove_if(first, targets.end(), cycling), targets.end());
  }
  return targets;
}

void dead_letter_router::dead_letter(queue& from, queued_message&& m, death_reason reason) {
  std::vector<storage::operation> ops;
  // Earlier buffered writes of the source (delivery marks) go first.
  from.flush_writes();
  from.settle_into(m, ops);
  const queue_arguments& args = from.arguments();
  std::vector<queue*> targets;
  if (args.dead_letter_exchange) {
    try {
      dead_lettered dl = make_dead_lettered(
          *m.msg, death_event{from.name(), reason, now_seconds(), *args.dead_letter_exchange,
                              args.dead_letter_routing_key ? std::optional<std::string_view>(*args.dead_letter_routing_key)
                                                           : std::nullopt});
      targets = route(dl, reason);
      append_copies(storage_, std::move(dl.msg), targets, ops);
    } catch (const amqp::decode_error& e) {
      log::warning("queue '" + from.name() + "': dropping a message with unreadable properties instead of "
                   "dead-lettering it: " + e.what());
      targets.clear();
    }
  }
  // One submission: the store commits the removal and the new entries together or not at all.
  if (!ops.empty()) storage_->durable->submit(std::move(ops), {});
  for (queue* q : targets) q->dispatch();
}

}  // namespace roost
