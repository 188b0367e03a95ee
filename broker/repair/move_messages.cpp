#include "broker/repair/move_messages.hpp"

#include <algorithm>
#include <memory>

#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/publish/append_copies.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

namespace {

// The queues a copy reaches through `x`, routed once per key (a probe with
// the same properties stands in for the copy on the extra keys).
void route_keys(vhost& v, exchange& x, const message& copy, const std::vector<std::string>& keys,
                std::vector<queue*>& targets) {
  std::vector<queue*> routed;
  message probe;
  probe.properties = copy.properties;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    probe.routing_key = keys[i];
    v.route(x, i == 0 ? copy : probe, routed);
    targets.insert(targets.end(), routed.begin(), routed.end());
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
}

}  // namespace

move_counts move_ready(vhost& v, storage_context& storage, queue& from, const std::vector<ready_view>& selected,
                       const destination_of& destination) {
  move_counts counts;
  std::vector<storage::operation> ops;
  from.flush_writes();  // the source's earlier buffered writes go first
  std::vector<queue*> targets;
  std::vector<queue*> reached;  // every target of the batch, dispatched once at the end
  for (const ready_view& seen : selected) {
    std::optional<move_destination> to = destination(seen);
    if (!to) {
      ++counts.unroutable;
      continue;
    }
    auto copy = std::make_shared<message>(*seen.msg);
    copy->store_id = 0;
    copy->confirm.reset();
    targets.clear();
    if (to->to_exchange != nullptr) {
      copy->exchange = to->to_exchange->name();
      if (!to->routing_keys.empty()) copy->routing_key = to->routing_keys.front();
      route_keys(v, *to->to_exchange, *copy, to->routing_keys, targets);
      if (targets.empty()) {
        ++counts.unroutable;
        continue;
      }
    } else if (to->to_queue != nullptr) {
      targets.push_back(to->to_queue);
    }
    if (std::any_of(targets.begin(), targets.end(), [&](const queue* q) { return q->refuses(*copy); })) {
      ++counts.refused;
      continue;
    }
    if (!from.remove_ready(seen, ops)) {
      ++counts.gone;
      continue;
    }
    ++counts.moved;
    append_copies(&storage, std::move(copy), targets, ops);
    reached.insert(reached.end(), targets.begin(), targets.end());
  }
  // One submission: the store commits the removals and the copies together or not at all.
  if (!ops.empty() && storage.durable != nullptr) storage.durable->submit(std::move(ops), {});
  std::sort(reached.begin(), reached.end());
  reached.erase(std::unique(reached.begin(), reached.end()), reached.end());
  for (queue* q : reached) q->dispatch();
  // The source may have lost its whole window: its consumers need the next page read in.
  from.dispatch();
  return counts;
}

}  // namespace roost
