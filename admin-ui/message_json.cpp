#include "admin-ui/message_json.hpp"

#include <limits>

#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/common/base64.hpp"
#include "broker/model/message.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr const char* property_names[] = {"content_type", "content_encoding", "headers",    "delivery_mode",
                                          "priority",     "correlation_id",   "reply_to",   "expiration",
                                          "message_id",   "timestamp",        "type",       "user_id",
                                          "app_id",       "cluster_id"};

template <class T>
void put(json& out, const char* name, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, amqp::field_table>) out[name] = to_json(*v);
  else out[name] = *v;
}

template <class T>
void take(const json& in, const char* name, std::optional<T>& v) {
  auto it = in.find(name);
  if (it == in.end()) return;
  if constexpr (std::is_same_v<T, amqp::field_table>) {
    v = table_from_json(*it, "properties.headers");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) bad_request(std::string("property '") + name + "' must be a string");
    v = it->template get<std::string>();
  } else {
    if (!it->is_number_integer() || it->template get<std::int64_t>() < 0 ||
        static_cast<std::uint64_t>(it->template get<std::int64_t>()) > std::numeric_limits<T>::max())
      bad_request(std::string("property '") + name + "' must be a non-negative integer in range");
    v = static_cast<T>(it->template get<std::int64_t>());
  }
}

}  // namespace

json properties_json(const amqp::basic_properties& p) {
  json out = json::object();
  std::size_t i = 0;
  std::apply([&](auto... member) { (put(out, property_names[i++], p.*member), ...); },
             amqp::basic_properties::fields());
  return out;
}

amqp::basic_properties properties_from_json(const json& j) {
  if (!j.is_object()) bad_request("properties must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* name : property_names) known = known || key == name;
    if (!known) bad_request("unknown property '" + key + "'");
  }
  amqp::basic_properties p;
  std::size_t i = 0;
  std::apply([&](auto... member) { (take(j, property_names[i++], p.*member), ...); },
             amqp::basic_properties::fields());
  return p;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (n == 9 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;  // bad lead byte or truncated
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

json content_json(const message& msg, const std::string& encoding, std::int64_t truncate) {
  std::string_view payload = msg.body;
  if (truncate >= 0 && static_cast<std::size_t>(truncate) < payload.size()) payload = payload.substr(0, truncate);
  bool as_string = encoding == "auto" && valid_utf8(payload);
  return json{{"payload_bytes", msg.body.size()},
              {"exchange", msg.exchange},
              {"routing_key", msg.routing_key},
              {"properties", properties_json(amqp::decode_properties(msg.properties))},
              {"payload", as_string ? std::string(payload) : base64_encode(payload)},
              {"payload_encoding", as_string ? "string" : "base64"}};
}

std::string checked_encoding(std::string encoding) {
  if (encoding != "auto" && encoding != "base64") bad_request("encoding must be auto or base64");
  return encoding;
}

}  // namespace roost::admin
