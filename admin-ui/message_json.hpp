// Messages in the admin API's shape: basic properties as JSON (both ways)
// and payloads with RabbitMQ's encodings ("string" when valid UTF-8 under
// "auto", otherwise "base64"). Used by queue get, stream browse and
// exchange publish.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "amqp/properties.hpp"

namespace roost {
struct message;
}  // namespace roost

namespace roost::admin {

nlohmann::json properties_json(const amqp::basic_properties& p);
// 400 for unknown property names or wrong types.
amqp::basic_properties properties_from_json(const nlohmann::json& j);

bool valid_utf8(std::string_view s);

// A payload encoding a request asked for: "auto" or "base64", else 400.
std::string checked_encoding(std::string encoding);

// A message's content as RabbitMQ's get shows it: exchange, routing_key,
// properties, payload_bytes, payload (at most `truncate` bytes; negative:
// all) and payload_encoding ("auto" or "base64" asked). Throws
// amqp::decode_error for unreadable properties.
nlohmann::json content_json(const message& msg, const std::string& encoding, std::int64_t truncate);

}  // namespace roost::admin
