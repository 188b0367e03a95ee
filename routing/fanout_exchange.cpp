// Fanout exchange: all bindings match (RabbitMQ's rabbit_exchange_type_fanout).
#include "routing/fanout_exchange.hpp"

namespace roost::routing {

bool fanout_exchange::bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  return bindings_.add(dest, binding_tag{std::string(routing_key), canonical_arguments(arguments)});
}

bool fanout_exchange::unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  return bindings_.remove(dest, binding_tag{std::string(routing_key), canonical_arguments(arguments)});
}

void fanout_exchange::route(const routed_message& /*message*/, std::vector<destination>& out) const {
  bindings_.append_destinations(out);
}

}  // namespace roost::routing
