// Direct exchange: exact routing-key match (RabbitMQ's rabbit_exchange_type_direct).
#include "routing/direct_exchange.hpp"

namespace roost::routing {

bool direct_exchange::bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  auto it = table_.find(routing_key);
  if (it == table_.end()) {
    // A fresh set cannot already hold the binding, so the add below succeeds.
    it = table_.emplace(std::string(routing_key), binding_set<amqp::field_table>{}).first;
  }
  return it->second.add(dest, canonical_arguments(arguments));
}

bool direct_exchange::unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  const auto it = table_.find(routing_key);
  if (it == table_.end()) return false;
  if (!it->second.remove(dest, canonical_arguments(arguments))) return false;
  if (it->second.empty()) table_.erase(it);
  return true;
}

void direct_exchange::route(const routed_message& message, std::vector<destination>& out) const {
  const auto it = table_.find(message.routing_key);
  if (it != table_.end()) it->second.append_destinations(out);
}

}  // namespace roost::routing
