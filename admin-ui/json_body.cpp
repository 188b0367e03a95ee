#include "admin-ui/json_body.hpp"

#include <charconv>

#include "admin-ui/api_error.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

struct to_json_visitor {
  json operator()(bool v) const { return v; }
  json operator()(const amqp::decimal_value& d) const {
    double v = d.digits;
    for (int i = 0; i < d.scale; ++i) v /= 10;
    return v;
  }
  json operator()(const std::string& s) const { return s; }
  json operator()(const amqp::byte_array& b) const { return b.bytes; }
  json operator()(const amqp::field_array& a) const {
    json out = json::array();
    for (const auto& v : a) out.push_back(to_json(v));
    return out;
  }
  json operator()(const amqp::timestamp_value& t) const { return t.seconds; }
  json operator()(const amqp::field_table& t) const { return to_json(t); }
  json operator()(const amqp::void_value&) const { return nullptr; }
  template <class Number>
  json operator()(Number n) const {
    return n;
  }
};

const json* find(const json& body, std::string_view key) {
  auto it = body.find(std::string(key));
  return it == body.end() ? nullptr : &*it;
}

[[noreturn]] void wrong_type(std::string_view key, std::string_view expected) {
  bad_request("field '" + std::string(key) + "' must be " + std::string(expected));
}

}  // namespace

json to_json(const amqp::field_value& v) { return std::visit(to_json_visitor{}, v.value); }

json to_json(const amqp::field_table& t) {
  json out = json::object();
  for (const auto& e : t.entries) out[e.name] = to_json(e.value);
  return out;
}

amqp::field_value field_from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer: return j.get<std::int64_t>();
    case json::value_t::number_unsigned: {
      auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(INT64_MAX)) bad_request("integer out of range: " + j.dump());
      return static_cast<std::int64_t>(v);
    }
    case json::value_t::number_float: return j.get<double>();
    case json::value_t::string: return j.get<std::string>();
    case json::value_t::array: {
      amqp::field_array a;
      for (const auto& v : j) a.push_back(field_from_json(v));
      return a;
    }
    case json::value_t::object: return table_from_json(j, "nested table");
    default: return amqp::void_value{};
  }
}

amqp::field_table table_from_json(const json& j, std::string_view what) {
  if (!j.is_object()) bad_request(std::string(what) + " must be a JSON object");
  amqp::field_table t;
  for (const auto& [key, value] : j.items()) {
    if (key.size() > 255) bad_request("field name longer than 255 bytes in " + std::string(what));
    t.entries.push_back(amqp::field_entry{key, field_from_json(value)});
  }
  return t;
}

json parse_body(const http_request& req) {
  if (const std::string* type = req.header("content-type")) {
    std::string_view media = *type;
    media = media.substr(0, media.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (media != "application/json")
      throw api_error(415, "unsupported_media_type", "Content-Type must be application/json, got '" + *type + "'");
  }
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) bad_request("malformed JSON in request body");
  if (!body.is_object()) bad_request("request body must be a JSON object");
  return body;
}

void check_fields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) bad_request("unknown field '" + key + "'");
  }
}

bool bool_field(const json& body, std::string_view key, bool fallback) {
  const json* v = find(body, key);
  if (v == nullptr) return fallback;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string() && *v == "true") return true;
  if (v->is_string() && *v == "false") return false;
  wrong_type(key, "a boolean");
}

std::int64_t int_field(const json& body, std::string_view key, std::int64_t fallback) {
  const json* v = find(body, key);
  if (v == nullptr) return fallback;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size()) return n;
  }
  wrong_type(key, "an integer");
}

std::string string_field(const json& body, std::string_view key, std::string_view fallback) {
  const json* v = find(body, key);
  if (v == nullptr) return std::string(fallback);
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::string required_string(const json& body, std::string_view key) {
  if (find(body, key) == nullptr) bad_request("field '" + std::string(key) + "' is required");
  return string_field(body, key, "");
}

amqp::field_table table_field(const json& body, std::string_view key) {
  const json* v = find(body, key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_object()) wrong_type(key, "a JSON object");
  return table_from_json(*v, key);
}

amqp::field_table queue_arguments_field(const json& body, std::string_view type_key) {
  amqp::field_table arguments = table_field(body, "arguments");
  if (!body.contains(type_key)) return arguments;
  std::string type = string_field(body, type_key, "classic");
  const amqp::field_value* declared = arguments.find("x-queue-type");
  if (declared == nullptr) {
    if (type != "classic") arguments.set("x-queue-type", type);
  } else if (const std::string* s = declared->as_string(); s == nullptr || *s != type) {
    bad_request(std::string(type_key) + " '" + type + "' does not match the x-queue-type argument");
  }
  return arguments;
}

std::vector<std::uint64_t> id_list(const nlohmann::json& ids, const std::string& what) {
  if (!ids.is_array()) bad_request(what);
  std::vector<std::uint64_t> out;
  out.reserve(ids.size());
  for (const nlohmann::json& id : ids) {
    std::string text = id.is_string() ? id.get<std::string>() : id.is_number_unsigned() ? id.dump() : "";
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) bad_request(what);
    out.push_back(n);
  }
  return out;
}

}  // namespace roost::admin
