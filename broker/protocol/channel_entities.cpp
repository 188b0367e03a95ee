// exchange.* and queue.* methods: thin translations onto vhost operations,
// after the access checks (channel_access.cpp), plus RabbitMQ's "last
// declared queue" shortcuts for empty names.
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/names.hpp"

namespace roost {

std::string channel::queue_name_or_last(const std::string& name) const {
  if (!name.empty()) return name;
  if (last_queue_.empty()) throw_not_found("queue", "", conn_.vh().name());
  return last_queue_;
}

void channel::on(const amqp::exchange_declare& m) {
  exchange_spec spec{m.exchange,   m.type,     m.durable ? durability::durable : durability::transient,
                     m.auto_delete, m.internal, m.arguments};
  if (!m.passive) require_exchange_declare(spec);
  vh().declare_exchange(spec, m.passive);
  if (!m.no_wait) reply(amqp::exchange_declare_ok{});
}

void channel::on(const amqp::exchange_delete& m) {
  require_exchange_delete(m.exchange);
  vh().delete_exchange(m.exchange, m.if_unused);
  if (!m.no_wait) reply(amqp::exchange_delete_ok{});
}

void channel::on(const amqp::exchange_bind& m) {
  require_binding(m.source, "exchange", m.destination, m.routing_key);
  vh().bind_exchange(m.source, m.destination, m.routing_key, m.arguments);
  if (!m.no_wait) reply(amqp::exchange_bind_ok{});
}

void channel::on(const amqp::exchange_unbind& m) {
  require_binding(m.source, "exchange", m.destination, m.routing_key);
  vh().unbind_exchange(m.source, m.destination, m.routing_key, m.arguments);
  if (!m.no_wait) reply(amqp::exchange_unbind_ok{});
}

void channel::on(const amqp::queue_declare& m) {
  if (m.queue == direct_reply_to::pseudo_queue || (m.passive && direct_reply_to::is_address(m.queue)))
    return answer_reply_queue_declare(m);
  queue_options options{m.durable ? durability::durable : durability::transient, m.exclusive, m.auto_delete,
                        m.arguments, 0};
  std::string name = m.passive ? queue_name_or_last(m.queue) : m.queue;
  queue_naming naming = queue_naming::given;
  if (!m.passive) {
    // A server-named queue is checked under the name it will get.
    if (name.empty()) {
      name = generate_name("amq.gen-");
      naming = queue_naming::server_generated;
    }
    require_queue_declare(name, naming, m.arguments);
  }
  queue& q = *vh().declare_queue(std::move(name), options, m.passive, conn_.id(), naming).q;
  last_queue_ = q.name();
  if (!m.no_wait)
    reply(amqp::queue_declare_ok{q.name(), static_cast<std::uint32_t>(q.ready_count()),
                                 static_cast<std::uint32_t>(q.consumer_count())});
}

void channel::on(const amqp::queue_bind& m) {
  std::string name = queue_name_or_last(m.queue);
  // RabbitMQ: with both queue and key empty, the key is the last queue's name.
  const std::string& key = m.queue.empty() && m.routing_key.empty() ? name : m.routing_key;
  require_binding(m.exchange, "queue", name, key);
  vh().bind_queue(m.exchange, name, key, m.arguments, conn_.id());
  if (!m.no_wait) reply(amqp::queue_bind_ok{});
}

void channel::on(const amqp::queue_unbind& m) {
  std::string name = queue_name_or_last(m.queue);
  const std::string& key = m.queue.empty() && m.routing_key.empty() ? name : m.routing_key;
  require_binding(m.exchange, "queue", name, key);
  vh().unbind_queue(m.exchange, name, key, m.arguments, conn_.id());
  reply(amqp::queue_unbind_ok{});
}

void channel::on(const amqp::queue_purge& m) {
  std::string name = queue_name_or_last(m.queue);
  require(access::read, "queue", name);
  std::size_t count = vh().purge_queue(name, conn_.id());
  if (!m.no_wait) reply(amqp::queue_purge_ok{static_cast<std::uint32_t>(count)});
}

void channel::on(const amqp::queue_delete& m) {
  std::string name = queue_name_or_last(m.queue);
  require(access::configure, "queue", name);
  std::size_t count = vh().delete_queue(name, m.if_unused, m.if_empty, conn_.id());
  if (!m.no_wait) reply(amqp::queue_delete_ok{static_cast<std::uint32_t>(count)});
}

}  // namespace roost
