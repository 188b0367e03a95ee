#include "admin-ui/message_filter.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "amqp/properties.hpp"
#include "broker/dead_letter/x_death.hpp"

namespace roost::admin {

using nlohmann::json;
using kind = message_filter::kind;

namespace {

using string_property = std::optional<std::string> amqp::basic_properties::*;

struct named_property {
  std::string_view name;
  string_property member;
};
constexpr std::array<named_property, 10> string_properties{{
    {"content_type", &amqp::basic_properties::content_type},
    {"content_encoding", &amqp::basic_properties::content_encoding},
    {"correlation_id", &amqp::basic_properties::correlation_id},
    {"reply_to", &amqp::basic_properties::reply_to},
    {"expiration", &amqp::basic_properties::expiration},
    {"message_id", &amqp::basic_properties::message_id},
    {"type", &amqp::basic_properties::type},
    {"user_id", &amqp::basic_properties::user_id},
    {"app_id", &amqp::basic_properties::app_id},
    {"cluster_id", &amqp::basic_properties::cluster_id},
}};

string_property property_named(std::string_view name) {
  for (const named_property& p : string_properties)
    if (p.name == name) return p.member;
  return nullptr;
}

// A JSON value as a filter compares it: strings as they are, anything else as JSON text (42, true).
std::string comparable(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

message_filter::condition parse_condition(std::string_view name, const std::string& value) {
  auto prefixed = [&](std::string_view prefix) { return name.starts_with(prefix) && name.size() > prefix.size(); };
  if (name == "exchange") return {kind::exchange, "", value};
  if (name == "routing_key") return {kind::routing_key, "", value};
  if (property_named(name) != nullptr) return {kind::property, std::string(name), value};
  if (prefixed("header.")) return {kind::header, std::string(name.substr(7)), value};
  if (name == "has_header") return {kind::has_header, value, ""};
  if (name == "body_contains") return {kind::body_contains, "", value};
  if (prefixed("body_json.")) return {kind::body_json, std::string(name.substr(10)), value};
  if (name == "death_reason") return {kind::death_reason, "", value};
  if (name == "death_queue") return {kind::death_queue, "", value};
  if (name == "redelivered") {
    if (value != "true" && value != "false") bad_request("redelivered must be true or false");
    return {kind::redelivered, "", value};
  }
  if (name == "min_delivery_count") {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || end != value.data() + value.size())
      bad_request("min_delivery_count must be a non-negative integer");
    return {kind::min_delivery_count, "", value, n};
  }
  bad_request("unknown filter '" + std::string(name) + "'");
}

// Decodes a message's properties once, for the conditions that need them.
class lazy_properties {
 public:
  explicit lazy_properties(const message& m) : msg_(m) {}
  const amqp::basic_properties* get() {
    if (!tried_) {
      tried_ = true;
      try {
        props_ = amqp::decode_properties(msg_.properties);
      } catch (const amqp::decode_error&) {
        // unreadable (a damaged stored row): no property condition holds
      }
    }
    return props_ ? &*props_ : nullptr;
  }
  const amqp::field_value* header(std::string_view name) {
    const amqp::basic_properties* p = get();
    return p != nullptr && p->headers ? p->headers->find(name) : nullptr;
  }
  // The most recent x-death entry.
  const std::optional<last_death>& death() {
    if (!death_tried_) {
      death_tried_ = true;
      const amqp::basic_properties* p = get();
      if (p != nullptr && p->headers) death_ = last_death_of(*p->headers);
    }
    return death_;
  }

 private:
  const message& msg_;
  bool tried_ = false;
  std::optional<amqp::basic_properties> props_;
  bool death_tried_ = false;
  std::optional<last_death> death_;
};

// Walks "a.b.c" into a JSON object.
const json* json_field(const json& doc, std::string_view path) {
  const json* at = &doc;
  while (!path.empty()) {
    std::size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return at;
}

bool holds(const message_filter::condition& c, const ready_view& v, lazy_properties& props,
           std::optional<json>& body) {
  const message& m = *v.msg;
  switch (c.what) {
    case kind::exchange: return m.exchange == c.value;
    case kind::routing_key: return m.routing_key == c.value;
    case kind::property: {
      const amqp::basic_properties* p = props.get();
      if (p == nullptr) return false;
      const std::optional<std::string>& field = p->*property_named(c.key);
      return field && *field == c.value;
    }
    case kind::header: {
      const amqp::field_value* h = props.header(c.key);
      return h != nullptr && comparable(to_json(*h)) == c.value;
    }
    case kind::has_header: return props.header(c.key) != nullptr;
    case kind::body_contains: return m.body.find(c.value) != std::string::npos;
    case kind::body_json: {
      if (!body) body = json::parse(m.body, nullptr, false);  // discarded (not an exception) when not JSON
      if (body->is_discarded()) return false;
      const json* field = json_field(*body, c.key);
      return field != nullptr && comparable(*field) == c.value;
    }
    case kind::min_delivery_count: return v.delivery_count >= c.number;
    case kind::redelivered: return v.redelivered == (c.value == "true");
    case kind::death_reason: return props.death() && props.death()->reason == c.value;
    case kind::death_queue: return props.death() && props.death()->queue == c.value;
  }
  return false;
}

}  // namespace

bool message_filter::matches(const ready_view& v) const {
  if (v.msg == nullptr) return false;
  lazy_properties props(*v.msg);
  std::optional<json> body;
  return std::all_of(conditions.begin(), conditions.end(),
                     [&](const condition& c) { return holds(c, v, props, body); });
}

message_filter filter_from_query(const query_params& q, std::initializer_list<std::string_view> not_filters) {
  message_filter f;
  for (const auto& [name, value] : q)
    if (std::find(not_filters.begin(), not_filters.end(), name) == not_filters.end())
      f.conditions.push_back(parse_condition(name, value));
  return f;
}

message_filter filter_from_json(const json& j) {
  message_filter f;
  if (j.is_null()) return f;
  if (!j.is_object()) bad_request("filter must be an object");
  for (const auto& [name, value] : j.items()) {
    if (!value.is_string() && !value.is_number() && !value.is_boolean())
      bad_request("filter '" + name + "' must be a string, a number or a boolean");
    f.conditions.push_back(parse_condition(name, comparable(value)));
  }
  return f;
}

ready_match as_match(message_filter f) {
  if (f.empty()) return nullptr;
  return [f = std::move(f)](const ready_view& v) { return f.matches(v); };
}

}  // namespace roost::admin
