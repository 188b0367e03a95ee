// Topic exchange: binds into and routes through a topic_trie
// (RabbitMQ's rabbit_exchange_type_topic).
#include "routing/topic_exchange.hpp"

#include "routing/binding_set.hpp"

namespace roost::routing {

bool topic_exchange::bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  return trie_.add(routing_key, dest, canonical_arguments(arguments));
}

bool topic_exchange::unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  return trie_.remove(routing_key, dest, canonical_arguments(arguments));
}

void topic_exchange::route(const routed_message& message, std::vector<destination>& out) const {
  trie_.match(message.routing_key, out);
}

}  // namespace roost::routing
