// Messages in the admin API's shape: basic properties as JSON (both ways)
// and payloads with RabbitMQ's encodings ("string" when valid UTF-8 under
// "auto", otherwise "base64"). Used by queue get and exchange publish.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "amqp/properties.hpp"

namespace roost::admin {

nlohmann::json properties_json(const amqp::basic_properties& p);
// 400 for unknown property names or wrong types.
amqp::basic_properties properties_from_json(const nlohmann::json& j);

bool valid_utf8(std::string_view s);

}  // namespace roost::admin
