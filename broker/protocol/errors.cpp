#include "broker/protocol/errors.hpp"

#include "amqp/methods.hpp"

namespace roost {

void throw_unexpected_method(std::uint32_t method_key) {
  auto class_id = static_cast<std::uint16_t>(method_key >> 16);
  auto method_id = static_cast<std::uint16_t>(method_key & 0xffff);
  std::string_view name = amqp::method_name(class_id, method_id);
  if (name == "unknown")
    throw connection_error(amqp::connection_reply::not_implemented,
                           "unknown method " + std::to_string(class_id) + "/" + std::to_string(method_id));
  throw connection_error(amqp::connection_reply::command_invalid, "unexpected method " + std::string(name));
}

}  // namespace roost
