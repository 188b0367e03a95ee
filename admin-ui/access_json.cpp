// Access-control objects to and from JSON: see access_json.hpp.
#include "admin-ui/access_json.hpp"

#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/common/base64.hpp"
#include "broker/common/name_pattern.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

// How RabbitMQ's error texts print a decoded JSON value (an Erlang term):
// strings as binaries (<<"x">>), numbers and atoms as they are.
std::string erlang_term(const json& v) {
  if (v.is_string()) return "<<\"" + v.get<std::string>() + "\">>";
  if (v.is_array()) {
    std::string out = "[";
    for (const json& item : v) out += (out.size() > 1 ? "," : "") + erlang_term(item);
    return out + "]";
  }
  if (v.is_null()) return "null";
  return v.dump();
}

// The integer a limit is set to, or RabbitMQ's complaint (`frame` wraps it
// the way the endpoint's validator does).
std::int64_t limit_value(const std::string& name, const json& value, std::string_view before, std::string_view after) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  bad_request(std::string(before) + name + " should be a number, actually was " + erlang_term(value) +
              std::string(after));
}

[[noreturn]] void unrecognised(const std::string& name, const json& value, std::string_view before,
                               std::string_view where) {
  bad_request(std::string(before) + "Unrecognised terms [{<<\"" + name + "\">>," + erlang_term(value) + "}] in " +
              std::string(where));
}

constexpr std::string_view vhost_prefix = "Validation failed\n\n";

password_hash hash_from_json(const json& body, const user_account* existing) {
  bool has_password = body.contains("password");
  bool has_hash = body.contains("password_hash");
  if (has_password && has_hash) bad_request("both_password_and_password_hash_are_provided");
  hashing_algorithm algorithm = hashing_algorithm::sha256;
  if (body.contains("hashing_algorithm")) {
    std::string name = string_field(body, "hashing_algorithm", "");
    auto parsed = parse_hashing_algorithm(name);
    if (!parsed)
      bad_request("unknown hashing_algorithm '" + name +
                  "' (rabbit_password_hashing_sha256, rabbit_password_hashing_sha512 or rabbit_password_hashing_md5)");
    algorithm = *parsed;
  }
  if (has_password) return hash_password(string_field(body, "password", ""));  // always the default, as RabbitMQ
  if (has_hash) {
    std::string text = string_field(body, "password_hash", "");
    auto hash = password_hash::from_base64(algorithm, text);
    if (hash) return *hash;
    if (!base64_decode(text)) bad_request_list({"not_base64", text});
    bad_request("password_hash is not a " + std::string(hashing_algorithm_name(algorithm)) +
                " hash (base64 of a 4-byte salt and the digest)");
  }
  // Neither: the user keeps no password (RabbitMQ clears an existing one).
  return password_hash{existing != nullptr ? existing->hash.algorithm : hashing_algorithm::sha256, {}};
}

}  // namespace

json user_limits_json(const user_limits& l) {
  json out = json::object();
  if (l.max_connections) out["max-connections"] = *l.max_connections;
  if (l.max_channels) out["max-channels"] = *l.max_channels;
  return out;
}

json vhost_limits_json(const vhost_limits& l) {
  json out = json::object();
  if (l.max_connections) out["max-connections"] = *l.max_connections;
  if (l.max_queues) out["max-queues"] = *l.max_queues;
  return out;
}

json user_json(const user_account& u) {
  return json{{"name", u.name},
              {"password_hash", u.hash.base64()},
              {"hashing_algorithm", hashing_algorithm_name(u.hash.algorithm)},
              {"tags", u.tags},
              {"limits", user_limits_json(u.limits)}};
}

json permission_json(std::string_view user, std::string_view vhost, const permission_set& p) {
  return json{{"user", user},
              {"vhost", vhost},
              {"configure", p.source(access::configure)},
              {"write", p.source(access::write)},
              {"read", p.source(access::read)}};
}

json topic_permission_json(std::string_view user, std::string_view vhost, std::string_view exchange,
                           const topic_rules& t) {
  return json{{"user", user},
              {"vhost", vhost},
              {"exchange", exchange},
              {"write", t.write_source()},
              {"read", t.read_source()}};
}

std::vector<std::string> tags_from_json(const json& value, std::string_view field) {
  std::vector<std::string> tags;
  auto add = [&](std::string_view tag) {
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (!tag.empty()) tags.emplace_back(tag);
  };
  if (value.is_string()) {
    std::string_view text = value.get_ref<const std::string&>();
    while (true) {
      std::size_t comma = text.find(',');
      add(text.substr(0, comma));
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
    return tags;
  }
  if (value.is_array()) {
    for (const json& tag : value) {
      if (!tag.is_string()) bad_request("field '" + std::string(field) + "' must be a string or a list of strings");
      add(tag.get_ref<const std::string&>());
    }
    return tags;
  }
  bad_request("field '" + std::string(field) + "' must be a string or a list of strings");
}

user_account user_from_json(const json& body, const std::string& name, const user_account* existing) {
  user_account u;
  u.name = name;
  if (body.contains("tags")) u.tags = tags_from_json(body["tags"], "tags");
  else if (body.contains("administrator")) u.tags = bool_field(body, "administrator", false)
                                                        ? std::vector<std::string>{"administrator"}
                                                        : std::vector<std::string>{};
  else bad_request("tags_not_present");
  u.hash = hash_from_json(body, existing);
  if (existing != nullptr) u.limits = existing->limits;
  if (body.contains("limits")) u.limits = merged_user_limits(u.limits, body["limits"]);
  return u;
}

void set_user_limit(user_limits& l, const std::string& name, const json& value) {
  if (name == "max-connections") l.max_connections = limit_value(name, value, "", "");
  else if (name == "max-channels") l.max_channels = limit_value(name, value, "", "");
  else unrecognised(name, value, "", "user-limits");
}

void set_vhost_limit(vhost_limits& l, const std::string& name, const json& value) {
  if (name == "max-connections") l.max_connections = limit_value(name, value, vhost_prefix, "\n");
  else if (name == "max-queues") l.max_queues = limit_value(name, value, vhost_prefix, "\n");
  else unrecognised(name, value, vhost_prefix, "limits\n");
}

vhost_limits vhost_limits_from_json(const json& value) {
  vhost_limits l;
  if (value.is_array() && value.empty()) return l;  // RabbitMQ exports "no limits left" as []
  if (!value.is_object()) bad_request("vhost limits must be a JSON object");
  for (const auto& [name, v] : value.items()) set_vhost_limit(l, name, v);
  return l;
}

user_limits merged_user_limits(user_limits l, const json& value) {
  if (value.is_array() && value.empty()) return l;
  if (!value.is_object()) bad_request("user limits must be a JSON object");
  for (const auto& [name, v] : value.items()) set_user_limit(l, name, v);
  return l;
}

std::string default_queue_type_from_json(const json& body, const std::string& current) {
  if (!body.contains("default_queue_type")) return current;
  std::string type = string_field(body, "default_queue_type", "");
  if (type == "undefined") return "";
  if (type != "classic" && type != "quorum" && type != "stream")
    bad_request("default_queue_type must be classic, quorum or stream, not '" + type + "'");
  return type;
}

void require_keys(const json& body, std::initializer_list<std::string_view> keys) {
  std::string missing;
  for (std::string_view key : keys)
    if (!body.contains(std::string(key))) missing += (missing.empty() ? "" : ",") + std::string("{key_missing,") +
                                                      std::string(key) + "}";
  if (!missing.empty()) bad_request("[" + missing + "]");
}

std::string expression(const json& body, std::string_view key) {
  std::string source = required_string(body, key);
  if (auto why = check_expression(source)) bad_request_list({"invalid_regexp", source, *why});
  return source;
}

std::string topic_expression(const json& body, std::string_view key, std::string_view user, std::string_view vhost) {
  std::string source = required_string(body, key);
  try {
    topic_rules(source, "", user, vhost);
  } catch (const pattern_error& e) {
    bad_request_list({"invalid_regexp", source, e.what()});
  }
  return source;
}

}  // namespace roost::admin
