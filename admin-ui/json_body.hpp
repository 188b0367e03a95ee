// JSON in and out: AMQP field tables as JSON (arguments, headers), and
// strict reading of request bodies.
//
// Bodies are checked before anything is changed: malformed JSON, a body
// that is not an object, a field the endpoint does not know or a value of
// the wrong type are all 400 with the field named. Booleans and integers
// also accept their string forms ("true", "5"), which rabbitmqadmin sends.
#pragma once

#include <cstdint>
#include <vector>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "admin-ui/http_types.hpp"
#include "amqp/field_table.hpp"

namespace roost::admin {

nlohmann::json to_json(const amqp::field_value& v);
nlohmann::json to_json(const amqp::field_table& t);
// JSON integers become signed 64-bit ('l'), as RabbitMQ's API makes them.
amqp::field_value field_from_json(const nlohmann::json& j);
// Throws 400 unless j is an object.
amqp::field_table table_from_json(const nlohmann::json& j, std::string_view what);

// The request body as a JSON object (an empty body is {}). 415 for a
// Content-Type other than JSON, 400 for anything that is not a JSON object.
nlohmann::json parse_body(const http_request& req);
// 400 naming the first field of body not in allowed.
void check_fields(const nlohmann::json& body, std::initializer_list<std::string_view> allowed);

bool bool_field(const nlohmann::json& body, std::string_view key, bool fallback);
std::int64_t int_field(const nlohmann::json& body, std::string_view key, std::int64_t fallback);
std::string string_field(const nlohmann::json& body, std::string_view key, std::string_view fallback);
// Present and a string, else 400.
std::string required_string(const nlohmann::json& body, std::string_view key);
amqp::field_table table_field(const nlohmann::json& body, std::string_view key);
// A list of ids as a list shows them (decimal strings; unsigned numbers
// also taken), else 400 with `what` as the reason.
std::vector<std::uint64_t> id_list(const nlohmann::json& ids, const std::string& what);
// A queue's "arguments", with the queue type of `type_key` ("queue_type" in
// a declare, "type" in definitions) as x-queue-type unless the arguments
// name one; 400 when the two disagree. The declare checks the type itself.
amqp::field_table queue_arguments_field(const nlohmann::json& body, std::string_view type_key);

}  // namespace roost::admin
