// Writing definitions to the durable store and reading them back at
// startup. What is durable follows RabbitMQ: durable exchanges, durable
// non-exclusive queues, and bindings whose both ends are durable.
#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/model/vhost.hpp"

namespace roost {

using amqp::decode_table;
using amqp::encode_table;

void vhost::persist(storage::operation op) {
  storage_context* storage = services_.storage;
  if (restoring_ || storage == nullptr || storage->durable == nullptr) return;
  storage->durable->submit({std::move(op)}, {});
}

bool vhost::durable_destination(routing::destination dest) {
  if (dest.kind == routing::destination_kind::queue) {
    queue* q = queue_by_id(dest.id);
    return q != nullptr && q->persisted();
  }
  auto it = exchanges_by_id_.find(dest.id);
  return it != exchanges_by_id_.end() && it->second->spec().durable == durability::durable;
}

void vhost::persist_exchange(const exchange& x) {
  const exchange_spec& spec = x.spec();
  if (spec.durable != durability::durable) return;
  persist(storage::put_exchange{{name_, spec.name, spec.type, spec.auto_delete, spec.internal,
                                 encode_table(spec.arguments)}});
}

void vhost::persist_queue(const queue& q) {
  if (!q.persisted()) return;
  persist(storage::put_queue{{q.store_id(), name_, q.name(), q.options().auto_delete, encode_table(q.options().arguments)}});
}

void vhost::persist_binding(const exchange& source, const binding& b, bool add) {
  if (source.spec().durable != durability::durable || !durable_destination(b.destination)) return;
  bool to_exchange = b.destination.kind == routing::destination_kind::exchange;
  std::string destination = to_exchange ? exchanges_by_id_.at(b.destination.id)->name()
                                        : queues_by_id_.at(b.destination.id)->name();
  storage::binding_record record{name_, source.name(), to_exchange, destination, b.routing_key,
                                 encode_table(b.arguments)};
  if (add) persist(storage::put_binding{std::move(record)});
  else persist(storage::delete_binding{std::move(record)});
}

void vhost::restore_exchange(const storage::exchange_record& r) {
  if (find_exchange(r.name) != nullptr) return;
  amqp::field_table arguments = decode_table(r.arguments);
  if (routing::make_router(r.type, arguments) == nullptr) {
    log::warning("skipping stored exchange '" + r.name + "' of unknown type '" + r.type + "'");
    return;
  }
  add_exchange(exchange_spec{r.name, r.type, durability::durable, r.auto_delete, r.internal, std::move(arguments)});
}

void vhost::restore_queue(const storage::queue_summary& s) {
  queue_options options;
  options.durable = durability::durable;
  options.auto_delete = s.queue.auto_delete;
  options.arguments = decode_table(s.queue.arguments);
  // Straight in, without declare's checks: a stored server-named queue has a reserved amq.gen- name.
  if (find_queue(s.queue.name) != nullptr) return;
  add_queue(s.queue.name, std::move(options)).restore(s);
}

void vhost::restore_binding(const storage::binding_record& r) {
  exchange* source = find_exchange(r.source);
  if (source == nullptr) return;
  routing::destination dest;
  if (r.to_exchange) {
    exchange* x = find_exchange(r.destination);
    if (x == nullptr) return;
    dest = {routing::destination_kind::exchange, x->id()};
  } else {
    queue* q = find_queue(r.destination);
    if (q == nullptr) return;
    dest = {routing::destination_kind::queue, q->id()};
  }
  restoring_ = true;
  add_binding(*source, dest, r.routing_key, decode_table(r.arguments));
  restoring_ = false;
}

}  // namespace roost
