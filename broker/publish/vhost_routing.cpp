// Bindings and routing. A message is routed through a worklist of exchanges
// (exchange-to-exchange bindings and alternate exchanges), each visited once,
// so binding cycles cannot loop.
#include <algorithm>

#include "amqp/properties.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"
#include "routing/binding_set.hpp"

namespace roost {

exchange& vhost::bindable_exchange(std::string_view name) {
  if (name.empty()) throw_access_refused("operation not permitted on the default exchange");
  return existing_exchange(name);
}

void vhost::add_binding(exchange& source, routing::destination dest, std::string_view routing_key,
                        const amqp::field_table& arguments) {
  std::string invalid = source.router().validate_binding_key(routing_key);
  if (invalid.empty()) invalid = source.router().validate_binding(arguments);
  if (!invalid.empty()) throw_precondition_failed(invalid);
  source.router().name_destination(dest, dest.kind == routing::destination_kind::queue
                                             ? queues_by_id_.at(dest.id)->name()
                                             : exchanges_by_id_.at(dest.id)->name());
  if (!source.router().bind(dest, routing_key, arguments)) return;  // already bound: a no-op
  // Stored in the router's canonical (sorted) form, so an unbind that lists
  // the same arguments in another order finds it, as in RabbitMQ.
  source.bindings().push_back(binding{dest, std::string(routing_key), routing::canonical_arguments(arguments)});
  sources_of_[destination_key(dest)].push_back(source.id());
  persist_binding(source, source.bindings().back(), true);
}

void vhost::remove_binding(exchange& source, routing::destination dest, std::string_view routing_key,
                           const amqp::field_table& arguments) {
  if (!source.router().unbind(dest, routing_key, arguments)) return;  // RabbitMQ: unbinding nothing succeeds
  auto& list = source.bindings();
  auto stored = std::find(list.begin(), list.end(),
                          binding{dest, std::string(routing_key), routing::canonical_arguments(arguments)});
  if (stored != list.end()) {
    persist_binding(source, *stored, false);
    list.erase(stored);
  }
  auto it = sources_of_.find(destination_key(dest));
  auto& ids = it->second;
  ids.erase(std::find(ids.begin(), ids.end(), source.id()));
  if (ids.empty()) sources_of_.erase(it);
  if (list.empty() && source.spec().auto_delete) remove_exchange(source);
}

void vhost::unbind_destination(routing::destination dest) {
  auto it = sources_of_.find(destination_key(dest));
  if (it == sources_of_.end()) return;
  std::vector<std::uint32_t> sources = std::move(it->second);
  sources_of_.erase(it);
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  for (std::uint32_t id : sources) {
    auto found = exchanges_by_id_.find(id);
    if (found == exchanges_by_id_.end()) continue;
    exchange& source = *found->second;
    auto& list = source.bindings();
    for (auto b = list.begin(); b != list.end();) {
      if (b->destination != dest) {
        ++b;
        continue;
      }
      source.router().unbind(dest, b->routing_key, b->arguments);
      b = list.erase(b);
    }
    if (list.empty() && source.spec().auto_delete) remove_exchange(source);
  }
}

void vhost::bind_queue(std::string_view source, std::string_view queue_name, std::string_view routing_key,
                       const amqp::field_table& arguments, owner_id who) {
  queue& q = accessible_queue(queue_name, who);
  exchange& x = bindable_exchange(source);
  add_binding(x, {routing::destination_kind::queue, q.id()}, routing_key, arguments);
}

// Unbinding is idempotent in RabbitMQ: a missing queue, exchange or binding
// is not an error (only locked queues and the default exchange are).
void vhost::unbind_queue(std::string_view source, std::string_view queue_name, std::string_view routing_key,
                         const amqp::field_table& arguments, owner_id who) {
  if (source.empty()) throw_access_refused("operation not permitted on the default exchange");
  queue* q = find_queue(queue_name);
  exchange* x = find_exchange(source);
  if (q == nullptr || x == nullptr) return;
  accessible_queue(queue_name, who);
  remove_binding(*x, {routing::destination_kind::queue, q->id()}, routing_key, arguments);
}

void vhost::bind_exchange(std::string_view source, std::string_view destination, std::string_view routing_key,
                          const amqp::field_table& arguments) {
  exchange& dest = bindable_exchange(destination);
  exchange& x = bindable_exchange(source);
  add_binding(x, {routing::destination_kind::exchange, dest.id()}, routing_key, arguments);
}

void vhost::unbind_exchange(std::string_view source, std::string_view destination, std::string_view routing_key,
                            const amqp::field_table& arguments) {
  if (source.empty() || destination.empty()) throw_access_refused("operation not permitted on the default exchange");
  exchange* dest = find_exchange(destination);
  exchange* x = find_exchange(source);
  if (dest == nullptr || x == nullptr) return;
  remove_binding(*x, {routing::destination_kind::exchange, dest->id()}, routing_key, arguments);
}

void vhost::route(exchange& x, const message& msg, std::vector<queue*>& out) {
  out.clear();
  std::string_view routing_key = msg.routing_key;
  if (x.is_default()) {
    if (queue* q = find_queue(routing_key)) out.push_back(q);
    return;
  }
  std::optional<amqp::field_table> headers;
  route_work_.assign(1, &x);
  route_seen_.assign(1, x.id());
  while (!route_work_.empty()) {
    exchange* current = route_work_.back();
    route_work_.pop_back();
    if (current->router().needs_headers() && !headers) {
      auto raw = amqp::scan_properties(msg.properties).headers;
      amqp::wire_reader in(raw.value_or(std::string_view("\0\0\0\0", 4)));
      headers = in.table();
    }
    route_dests_.clear();
    current->router().route(routing::routed_message{routing_key, headers ? &*headers : nullptr, msg.properties},
                            route_dests_);
    auto visit = [&](exchange* next) {
      if (next == nullptr || std::find(route_seen_.begin(), route_seen_.end(), next->id()) != route_seen_.end())
        return;
      route_seen_.push_back(next->id());
      route_work_.push_back(next);
    };
    if (route_dests_.empty() && current->alternate_exchange()) visit(find_exchange(*current->alternate_exchange()));
    for (routing::destination d : route_dests_) {
      if (d.kind == routing::destination_kind::queue) {
        auto q = queues_by_id_.find(d.id);
        if (q != queues_by_id_.end()) out.push_back(q->second);
      } else {
        auto e = exchanges_by_id_.find(d.id);
        visit(e == exchanges_by_id_.end() ? nullptr : e->second);
      }
    }
  }
  if (out.size() > 1) {
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
}

}  // namespace roost
