// The factory from exchange type name to router: the one place that knows
// every built-in type, so the broker needs no per-type code to declare an
// exchange. Names are case-sensitive, as in RabbitMQ.
#include "routing/consistent_hash_exchange.hpp"
#include "routing/direct_exchange.hpp"
#include "routing/exchange_router.hpp"
#include "routing/fanout_exchange.hpp"
#include "routing/headers_exchange.hpp"
#include "routing/topic_exchange.hpp"

namespace roost::routing {

namespace {

constexpr std::string_view delayed_type = "x-delayed-message";

std::unique_ptr<exchange_router> make_plain_router(std::string_view type, const amqp::field_table& arguments) {
  if (type == "direct") return std::make_unique<direct_exchange>();
  if (type == "fanout") return std::make_unique<fanout_exchange>();
  if (type == "topic") return std::make_unique<topic_exchange>();
  if (type == "headers") return std::make_unique<headers_exchange>();
  if (type == "x-consistent-hash") return std::make_unique<consistent_hash_exchange>(arguments);
  return nullptr;
}

// The delayed-message plugin routes as its x-delayed-type says; the
// delaying itself is the broker's business (broker/delay/delayed_delivery.hpp).
const std::string* delayed_routing_type(const amqp::field_table& arguments) {
  const amqp::field_value* v = arguments.find("x-delayed-type");
  return v != nullptr ? v->as_string() : nullptr;
}

}  // namespace

exchange_problem check_exchange(std::string_view type, const amqp::field_table& arguments) {
  using kind = exchange_problem::kind;
  std::string_view routing_type = type;
  if (type == delayed_type) {
    // The plugin's texts (rabbit_exchange_type_delayed_message:validate/1).
    const std::string* inner = delayed_routing_type(arguments);
    if (inner == nullptr)
      return {kind::invalid_arguments, "Invalid argument, 'x-delayed-type' must be an existing exchange type"};
    if (*inner == delayed_type)
      return {kind::invalid_arguments, "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'"};
    routing_type = *inner;
  }
  if (make_plain_router(routing_type, {}) == nullptr) return {kind::unknown_type, std::string(routing_type)};
  if (routing_type == "x-consistent-hash") {
    std::string invalid = consistent_hash_exchange::validate_arguments(arguments);
    if (!invalid.empty()) return {kind::invalid_arguments, std::move(invalid)};
  }
  return {};
}

std::unique_ptr<exchange_router> make_router(std::string_view type, const amqp::field_table& arguments) {
  if (check_exchange(type, arguments).what != exchange_problem::kind::none) return nullptr;
  if (type == delayed_type) return make_plain_router(*delayed_routing_type(arguments), arguments);
  return make_plain_router(type, arguments);
}

}  // namespace roost::routing
