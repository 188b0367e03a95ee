// RabbitMQ's access-control table for AMQP 0-9-1, applied on the channel:
//   exchange.declare      configure on the exchange (with an alternate exchange:
//                         also write on it, and read on the declared one)
//   queue.declare         configure on the queue (server-named: the generated
//                         name; with a dead-letter exchange: also write on it,
//                         and read on the queue)
//   exchange/queue.delete configure
//   queue.bind/unbind     write on the queue, read on the exchange
//   exchange.bind/unbind  write on the destination, read on the source
//   basic.publish         write on the exchange
//   basic.get/consume     read on the queue; queue.purge: read
// Passive declares need nothing. Topic exchanges add topic permissions on
// the routing key: write to publish, read to bind. Refusals are 403
// ACCESS_REFUSED and close the channel.
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

namespace {

std::string refused_for(const std::string& what, const std::string& user) {
  return "access to " + what + " refused for user '" + user + "'";
}

}  // namespace

void channel::require(access a, std::string_view kind, std::string_view name) {
  if (conn_.owner().access().allows(conn_.user(), vh().name(), a, name)) return;
  throw_access_refused(refused_for(describe(kind, name, vh().name()), conn_.user()));
}

void channel::require_topic(access a, const exchange& x, std::string_view routing_key) {
  if (x.spec().type != "topic" || conn_.owner().access().topic_allows(conn_.user(), vh().name(), x.name(), a, routing_key))
    return;
  throw_access_refused(refused_for("topic '" + std::string(routing_key) + "' in " + describe("exchange", x.name(), vh().name()),
                                   conn_.user()));
}

void channel::require_publish(const std::string& exchange_name) {
  const access_control& ac = conn_.owner().access();
  if (publish_allowed_.version == ac.version() && publish_allowed_.exchange == exchange_name) return;
  require(access::write, "exchange", exchange_name);
  publish_allowed_ = {ac.version(), exchange_name, ac.topic_rules_for(conn_.user(), vh().name(), exchange_name)};
}

void channel::require_publish_topic(const exchange& x, std::string_view routing_key) {
  if (x.spec().type != "topic") return;
  const publish_permission& cached = publish_allowed_;
  bool fresh = cached.version == conn_.owner().access().version() && cached.exchange == x.name();
  if (fresh && cached.topic == nullptr) return;
  require_topic(access::write, x, routing_key);
}

void channel::require_binding(const std::string& source, std::string_view kind, const std::string& destination,
                              std::string_view routing_key) {
  require(access::write, kind, destination);
  require(access::read, "exchange", source);
  if (exchange* x = vh().find_exchange(source)) require_topic(access::read, *x, routing_key);
}

void channel::require_declare(std::string_view kind, std::string_view name, const amqp::field_table& arguments) {
  require(access::configure, kind, name);
  const amqp::field_value* other = arguments.find(kind == "queue" ? "x-dead-letter-exchange" : "alternate-exchange");
  const std::string* other_name = other != nullptr ? other->as_string() : nullptr;
  if (other_name == nullptr) return;
  require(access::write, "exchange", *other_name);
  require(access::read, kind, name);
}

}  // namespace roost
