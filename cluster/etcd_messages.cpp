// JSON in and out with nlohmann/json; base64 with OpenSSL's EVP block
// coder (already linked for TLS), so the cluster module needs no codec of
// its own.
#include "cluster/etcd_messages.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace roost::cluster::etcd {

namespace {

using json = nlohmann::json;

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string unbase64(std::string_view text) {
  if (text.size() % 4 != 0) throw bad_answer("a key or value that is not base64");
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw bad_answer("a key or value that is not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

// 64-bit integers are strings in the gateway's JSON; absent means 0.
std::int64_t int64_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) throw bad_answer(std::string("field ") + name + " is not a number");
  const std::string& text = it->get_ref<const std::string&>();
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw bad_answer(std::string("field ") + name + " is not a number");
  return value;
}

std::string bytes_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) throw bad_answer(std::string("field ") + name + " is not a string");
  return unbase64(it->get_ref<const std::string&>());
}

const json& object_field(const json& object, const char* name) {
  static const json empty = json::object();
  auto it = object.find(name);
  if (it == object.end()) return empty;
  if (!it->is_object()) throw bad_answer(std::string("field ") + name + " is not an object");
  return *it;
}

// The answer as an object; an error object (a failed request) is thrown as its message.
json parse_object(std::string_view answer) {
  json parsed = json::parse(answer, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) throw bad_answer("an answer that is not a JSON object");
  if (auto error = parsed.find("error"); error != parsed.end()) {
    auto message = parsed.find("message");
    const json& text = message != parsed.end() ? *message : *error;
    throw bad_answer(text.is_string() ? text.get<std::string>() : std::string("etcd reported an error"));
  }
  return parsed;
}

std::vector<key_value> key_values(const json& range) {
  std::vector<key_value> out;
  auto kvs = range.find("kvs");
  if (kvs == range.end()) return out;
  if (!kvs->is_array()) throw bad_answer("field kvs is not an array");
  for (const json& kv : *kvs) {
    if (!kv.is_object()) throw bad_answer("a key-value that is not an object");
    out.push_back({bytes_field(kv, "key"), bytes_field(kv, "value"), int64_field(kv, "create_revision"),
                   int64_field(kv, "mod_revision"), int64_field(kv, "lease")});
  }
  return out;
}

json put_request(std::string_view key, std::string_view value, std::int64_t lease) {
  json put = {{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  return put;
}

json compare_create_revision(std::string_view key, std::int64_t revision) {
  return {{"key", base64(key)}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", std::to_string(revision)}};
}

json compare_mod_revision(std::string_view key, std::int64_t revision) {
  return {{"key", base64(key)}, {"target", "MOD"}, {"result", "EQUAL"}, {"mod_revision", std::to_string(revision)}};
}

std::string txn(const json& compares, const json& put, std::string_view read_key) {
  json body = {{"compare", compares},
               {"success", json::array({{{"request_put", put}}})},
               {"failure", json::array({{{"request_range", {{"key", base64(read_key)}}}}})}};
  return body.dump();
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // etcd: "\0" as range_end means every key from key on
}

std::string lease_grant_body(std::int64_t ttl_seconds) { return json{{"TTL", std::to_string(ttl_seconds)}}.dump(); }
std::string lease_keepalive_body(std::int64_t lease) { return json{{"ID", std::to_string(lease)}}.dump(); }
std::string lease_revoke_body(std::int64_t lease) { return json{{"ID", std::to_string(lease)}}.dump(); }

std::string put_body(std::string_view key, std::string_view value, std::int64_t lease) {
  return put_request(key, value, lease).dump();
}

std::string range_prefix_body(std::string_view prefix) {
  return json{{"key", base64(prefix)}, {"range_end", base64(prefix_end(prefix))}}.dump();
}

std::string range_body(std::string_view key) { return json{{"key", base64(key)}}.dump(); }

std::string create_if_absent_body(std::string_view key, std::string_view value, std::int64_t lease) {
  return txn(json::array({compare_create_revision(key, 0)}), put_request(key, value, lease), key);
}

std::string create_if_absent_unless_changed_body(std::string_view key, std::string_view value, std::int64_t lease,
                                                 std::string_view guard_key, std::int64_t guard_mod_revision) {
  json compares = json::array({compare_create_revision(key, 0), compare_mod_revision(guard_key, guard_mod_revision)});
  return txn(compares, put_request(key, value, lease), key);
}

std::string put_if_held_body(std::string_view key, std::string_view value, std::string_view guard_key,
                             std::int64_t guard_create_revision) {
  return txn(json::array({compare_create_revision(guard_key, guard_create_revision)}), put_request(key, value, 0),
             guard_key);
}

lease_grant parse_lease_grant(std::string_view answer) {
  json parsed = parse_object(answer);
  lease_grant grant{int64_field(parsed, "ID"), int64_field(parsed, "TTL")};
  if (grant.id == 0 || grant.ttl_seconds <= 0) throw bad_answer("a lease grant without a lease");
  return grant;
}

std::int64_t parse_keepalive(std::string_view answer) {
  json parsed = parse_object(answer);
  // The gateway streams keepalives: each answer is wrapped in "result".
  return std::max<std::int64_t>(0, int64_field(object_field(parsed, "result"), "TTL"));
}

txn_result parse_txn(std::string_view answer) {
  json parsed = parse_object(answer);
  txn_result result;
  auto succeeded = parsed.find("succeeded");
  if (succeeded != parsed.end() && !succeeded->is_boolean()) throw bad_answer("field succeeded is not a boolean");
  result.succeeded = succeeded != parsed.end() && succeeded->get<bool>();
  result.revision = int64_field(object_field(parsed, "header"), "revision");
  auto responses = parsed.find("responses");
  if (responses == parsed.end()) return result;
  if (!responses->is_array()) throw bad_answer("field responses is not an array");
  for (const json& response : *responses) {
    if (!response.is_object()) throw bad_answer("a response that is not an object");
    if (response.contains("response_range")) {
      std::vector<key_value> kvs = key_values(object_field(response, "response_range"));
      result.range.insert(result.range.end(), kvs.begin(), kvs.end());
    }
  }
  return result;
}

std::vector<key_value> parse_range(std::string_view answer) { return key_values(parse_object(answer)); }

}  // namespace roost::cluster::etcd
