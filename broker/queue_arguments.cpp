#include "broker/queue_arguments.hpp"

#include <string>

#include "broker/errors.hpp"

namespace roost {

namespace {

// RabbitMQ's names for AMQP field types, as its "unacceptable_type" errors print them.
const char* rabbit_type_name(const amqp::field_value& v) {
  static constexpr const char* names[] = {"bool",   "byte",    "unsignedbyte", "short",  "unsignedshort",
                                          "signedint", "unsignedint", "long",  "float",  "double",
                                          "decimal", "longstr", "array",       "timestamp", "table",
                                          "void",   "binary"};
  static_assert(std::size(names) == std::variant_size_v<amqp::field_value::storage>);
  return names[v.value.index()];
}

}  // namespace

void check_queue_argument_types(std::string_view queue_name, std::string_view vhost,
                                const amqp::field_table& arguments) {
  if (const amqp::field_value* v = arguments.find("x-single-active-consumer"); v != nullptr && !v->get_if<bool>())
    throw_precondition_failed("invalid arg 'x-single-active-consumer' for " + describe("queue", queue_name, vhost) +
                              ": {unacceptable_type," + rabbit_type_name(*v) + "}");
}

bool single_active_consumer(const amqp::field_table& arguments) {
  const amqp::field_value* v = arguments.find("x-single-active-consumer");
  const bool* on = v != nullptr ? v->get_if<bool>() : nullptr;
  return on != nullptr && *on;
}

}  // namespace roost
