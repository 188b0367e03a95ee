// RabbitMQ's access-control table for AMQP 0-9-1, applied on the channel:
//   exchange.declare      configure on the exchange; a new one with an
//                         alternate exchange: also read on it, then write on
//                         the alternate exchange (406 if that is not a string)
//   queue.declare         configure on the queue (server-named: the generated
//                         name); a new one with a dead-letter exchange: also
//                         read on it, then write on the dead-letter exchange
//   exchange/queue.delete configure
//   queue.bind/unbind     write on the queue, read on the exchange
//   exchange.bind/unbind  write on the destination, read on the source
//   basic.publish         write on the exchange
//   basic.get/consume     read on the queue; queue.purge: read
// Passive declares need nothing. The default exchange is checked under the
// name amq.default, as RabbitMQ's access control does, so "" (RabbitMQ's "^$")
// grants nothing on it. Topic exchanges add topic permissions on the routing
// key: write to publish, read to bind. Refusals are 403 ACCESS_REFUSED and
// close the channel. Each check comes where RabbitMQ's channel makes it among
// its other checks (the default exchange, amq.* names, the queue limit), so
// that a method breaking two rules is refused for the same one.
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

// The exchange an argument names (alternate-exchange, x-dead-letter-exchange),
// if there is one; RabbitMQ's 406 when it is not a string. `what` names the
// resource being declared.
const std::string* named_exchange(const amqp::field_table& arguments, std::string_view key, const std::string& what) {
  const amqp::field_value* v = arguments.find(key);
  if (v == nullptr) return nullptr;
  if (const std::string* s = v->get_if<std::string>()) return s;
  throw_precondition_failed("invalid type '" + std::string(amqp::type_name(*v)) + "' for arg '" + std::string(key) +
                            "' in " + what);
}

}  // namespace

void channel::require(access a, std::string_view kind, std::string_view name) {
  if (kind == "exchange" && name.empty()) name = "amq.default";
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
  if (kind == "exchange") vhost::check_not_default_exchange(destination);
  vhost::check_not_default_exchange(source);
  require(access::read, "exchange", source);
  if (exchange* x = vh().find_exchange(source)) require_topic(access::read, *x, routing_key);
}

void channel::require_exchange_declare(const exchange_spec& spec) {
  vhost::check_exchange_type(spec.type, spec.arguments);
  vhost::check_not_default_exchange(spec.name);
  require(access::configure, "exchange", spec.name);
  if (vh().find_exchange(spec.name) != nullptr) return;  // a redeclaration is only compared
  vhost::check_unreserved_name("exchange", spec.name);
  if (const std::string* alternate =
          named_exchange(spec.arguments, "alternate-exchange", describe("exchange", spec.name, vh().name()))) {
    require(access::read, "exchange", spec.name);
    require(access::write, "exchange", *alternate);
  }
}

void channel::require_queue_declare(const std::string& name, queue_naming naming, const amqp::field_table& arguments) {
  // RabbitMQ refuses amq.* names even for a queue that exists (a server-named one redeclared by name).
  if (naming == queue_naming::given) vhost::check_unreserved_name("queue", name);
  require(access::configure, "queue", name);
  if (vh().find_queue(name) != nullptr) return;  // a redeclaration is only compared
  vh().check_queue_limit(name);
  if (const std::string* dead_letter =
          named_exchange(arguments, "x-dead-letter-exchange", describe("queue", name, vh().name()))) {
    require(access::read, "queue", name);
    require(access::write, "exchange", *dead_letter);
  }
}

void channel::require_exchange_delete(const std::string& name) {
  vh().check_exchange_deletable(name);
  require(access::configure, "exchange", name);
}

}  // namespace roost
