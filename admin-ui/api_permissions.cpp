// /api/permissions and /api/topic-permissions: list, show, set (PUT),
// clear (DELETE); and the same lists by user (/api/users/{user}/...) and by
// vhost (/api/vhosts/{vhost}/...). All for administrators.
//
// A PUT names an existing vhost and user (else 400
// "vhost_or_user_not_found"), then every expression (else "[{key_missing,
// read}]"), each a valid regular expression (else ["invalid_regexp", ...]).
// A topic permission is per exchange; DELETE clears the user's topic
// permissions on every exchange of the vhost, as RabbitMQ's endpoint does.
// Changes go through the broker, which writes them to the store; open
// channels see them at their next operation.
#include <nlohmann/json.hpp>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

using key_view = std::pair<std::string_view, std::string_view>;

// Every permission (or topic permission) whose (user, vhost) key `keep` accepts.
template <class predicate>
json permissions_where(const broker& b, predicate keep) {
  json items = json::array();
  for (const auto& [key, p] : b.access().all_permissions())
    if (keep(key.first, key.second)) items.push_back(permission_json(key.first, key.second, p));
  return items;
}

template <class predicate>
json topic_permissions_where(const broker& b, predicate keep) {
  json items = json::array();
  for (const auto& [key, rules] : b.access().all_topic_permissions())
    if (keep(key.first, key.second))
      for (const auto& [exchange, t] : rules) items.push_back(topic_permission_json(key.first, key.second, exchange, t));
  return items;
}

auto everyone = [](std::string_view, std::string_view) { return true; };

void check_user_exists(const api_call& c) {
  if (c.ctx.b.access().find_user(c.param("user")) == nullptr) not_found("Not Found");
}

void check_vhost_exists(const api_call& c) {
  if (c.ctx.b.find_vhost(c.param("vhost")) == nullptr) not_found("Not Found");
}

void check_vhost_and_user(const api_call& c) {
  if (c.ctx.b.find_vhost(c.param("vhost")) == nullptr || c.ctx.b.access().find_user(c.param("user")) == nullptr)
    bad_request("vhost_or_user_not_found");
}

// ---- permissions

http_response list(const api_call& c) { return list_response(c, permissions_where(c.ctx.b, everyone)); }

http_response list_of_user(const api_call& c) {
  check_user_exists(c);
  auto mine = [&](std::string_view user, std::string_view) { return user == c.param("user"); };
  return list_response(c, permissions_where(c.ctx.b, mine));
}

http_response list_in_vhost(const api_call& c) {
  check_vhost_exists(c);
  auto here = [&](std::string_view, std::string_view vhost) { return vhost == c.param("vhost"); };
  return list_response(c, permissions_where(c.ctx.b, here));
}

http_response show(const api_call& c) {
  const permission_set* p = c.ctx.b.access().permissions(c.param("user"), c.param("vhost"));
  if (p == nullptr) not_found("Not Found");
  return json_response(permission_json(c.param("user"), c.param("vhost"), *p));
}

http_response put(const api_call& c) {
  check_vhost_and_user(c);
  json body = parse_body(c.req);
  check_fields(body, {"configure", "write", "read", "user", "vhost"});
  require_keys(body, {"configure", "write", "read"});
  std::string configure = expression(body, "configure");
  std::string write = expression(body, "write");
  std::string read = expression(body, "read");
  const std::string& user = c.param("user");
  const std::string& vhost = c.param("vhost");
  bool created = c.ctx.b.access().permissions(user, vhost) == nullptr;
  c.ctx.b.set_permissions(user, vhost, configure, write, read);
  return created ? admin::created() : no_content();
}

http_response remove(const api_call& c) {
  if (c.ctx.b.access().permissions(c.param("user"), c.param("vhost")) == nullptr) not_found("Not Found");
  c.ctx.b.clear_permissions(c.param("user"), c.param("vhost"));
  return no_content();
}

// ---- topic permissions

bool has_topic_permissions(const api_call& c) {
  const auto& all = c.ctx.b.access().all_topic_permissions();
  return all.find(key_view{c.param("user"), c.param("vhost")}) != all.end();
}

http_response list_topic(const api_call& c) { return list_response(c, topic_permissions_where(c.ctx.b, everyone)); }

http_response list_topic_of_user(const api_call& c) {
  check_user_exists(c);
  auto mine = [&](std::string_view user, std::string_view) { return user == c.param("user"); };
  return list_response(c, topic_permissions_where(c.ctx.b, mine));
}

http_response list_topic_in_vhost(const api_call& c) {
  check_vhost_exists(c);
  auto here = [&](std::string_view, std::string_view vhost) { return vhost == c.param("vhost"); };
  return list_response(c, topic_permissions_where(c.ctx.b, here));
}

http_response show_topic(const api_call& c) {
  if (!has_topic_permissions(c)) not_found("Not Found");
  auto this_one = [&](std::string_view user, std::string_view vhost) {
    return user == c.param("user") && vhost == c.param("vhost");
  };
  return list_response(c, topic_permissions_where(c.ctx.b, this_one));
}

http_response put_topic(const api_call& c) {
  check_vhost_and_user(c);
  json body = parse_body(c.req);
  check_fields(body, {"exchange", "write", "read", "user", "vhost"});
  require_keys(body, {"exchange", "write", "read"});
  std::string exchange = required_string(body, "exchange");
  std::string write = topic_expression(body, "write", c.param("user"), c.param("vhost"));
  std::string read = topic_expression(body, "read", c.param("user"), c.param("vhost"));
  bool created = !has_topic_permissions(c);
  c.ctx.b.set_topic_permissions(c.param("user"), c.param("vhost"), exchange, write, read);
  return created ? admin::created() : no_content();
}

http_response remove_topic(const api_call& c) {
  if (!has_topic_permissions(c)) not_found("Not Found");
  c.ctx.b.clear_topic_permissions(c.param("user"), c.param("vhost"), "");
  return no_content();
}

}  // namespace

void add_permission_routes(api_router& r) {
  r.add("GET", "/api/permissions", {list, for_administrator});
  r.add("GET", "/api/permissions/:vhost/:user", {show, for_administrator});
  r.add("PUT", "/api/permissions/:vhost/:user", {put, for_administrator});
  r.add("DELETE", "/api/permissions/:vhost/:user", {remove, for_administrator});
  r.add("GET", "/api/users/:user/permissions", {list_of_user, for_administrator});
  r.add("GET", "/api/vhosts/:vhost/permissions", {list_in_vhost, for_administrator});
  r.add("GET", "/api/topic-permissions", {list_topic, for_administrator});
  r.add("GET", "/api/topic-permissions/:vhost/:user", {show_topic, for_administrator});
  r.add("PUT", "/api/topic-permissions/:vhost/:user", {put_topic, for_administrator});
  r.add("DELETE", "/api/topic-permissions/:vhost/:user", {remove_topic, for_administrator});
  r.add("GET", "/api/users/:user/topic-permissions", {list_topic_of_user, for_administrator});
  r.add("GET", "/api/vhosts/:vhost/topic-permissions", {list_topic_in_vhost, for_administrator});
}

}  // namespace roost::admin
