// /api/user-limits (max-connections, max-channels) and /api/vhost-limits
// (max-connections, max-queues): list, set one ({"value": N}), clear one.
//
// Reading: any management user sees every user's limits and the limits of
// the vhosts it may see (monitors: all), as RabbitMQ 3.10 does. Setting and
// clearing is for administrators. A negative value means "no limit" and is
// kept and shown as given; 0 allows nothing. Limits are checked when a
// connection, channel or queue is opened, so lowering one closes nothing.
#include <nlohmann/json.hpp>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

const user_account& existing_user(const api_call& c) {
  const user_account* u = c.ctx.b.access().find_user(c.param("user"));
  if (u == nullptr) not_found("Not Found");
  return *u;
}

json user_entry(const user_account& u) { return json{{"user", u.name}, {"value", user_limits_json(u.limits)}}; }
json vhost_entry(const vhost& v) { return json{{"vhost", v.name()}, {"value", vhost_limits_json(v.settings().limits)}}; }

// {"value": N}, as the PUT body carries it.
const json& limit_body_value(const json& body) {
  require_keys(body, {"value"});
  return body["value"];
}

// ---- users

http_response list_users(const api_call& c) {
  json items = json::array();
  for (const auto& [name, u] : c.ctx.b.access().users())
    if (!user_limits_json(u.limits).empty()) items.push_back(user_entry(u));
  return list_response(c, std::move(items));
}

http_response show_user(const api_call& c) {
  const user_account& u = existing_user(c);
  json items = json::array();
  if (!user_limits_json(u.limits).empty()) items.push_back(user_entry(u));
  return json_response(items);
}

http_response put_user(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"value", "user", "name"});
  const json& value = limit_body_value(body);
  const user_account* u = c.ctx.b.access().find_user(c.param("user"));
  if (u == nullptr) bad_request_list({"no_such_user", c.param("user")});
  user_account changed = *u;
  set_user_limit(changed.limits, c.param("name"), value);
  c.ctx.b.put_user(std::move(changed));
  return no_content();
}

http_response remove_user(const api_call& c) {
  user_account changed = existing_user(c);
  const std::string& name = c.param("name");
  if (name == "max-connections") changed.limits.max_connections.reset();
  else if (name == "max-channels") changed.limits.max_channels.reset();
  else return no_content();  // nothing by that name: nothing to clear
  c.ctx.b.put_user(std::move(changed));
  return no_content();
}

// ---- vhosts

http_response list_vhosts(const api_call& c) {
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts())
    if (sees_vhost(c, name) && !vhost_limits_json(v->settings().limits).empty()) items.push_back(vhost_entry(*v));
  return list_response(c, std::move(items));
}

http_response show_vhost(const api_call& c) {
  vhost* v = c.ctx.b.find_vhost(c.param("vhost"));
  if (v == nullptr) not_found("Not Found");
  json items = json::array();
  if (!vhost_limits_json(v->settings().limits).empty()) items.push_back(vhost_entry(*v));
  return json_response(items);
}

http_response put_vhost(const api_call& c) {
  vhost* v = c.ctx.b.find_vhost(c.param("vhost"));
  if (v == nullptr) throw api_error(404, "not_found", "vhost_not_found");
  json body = parse_body(c.req);
  check_fields(body, {"value", "vhost", "name"});
  vhost_settings settings = v->settings();
  set_vhost_limit(settings.limits, c.param("name"), limit_body_value(body));
  c.ctx.b.put_vhost(v->name(), std::move(settings));
  return no_content();
}

http_response remove_vhost(const api_call& c) {
  vhost* v = c.ctx.b.find_vhost(c.param("vhost"));
  if (v == nullptr) not_found("Not Found");
  vhost_settings settings = v->settings();
  const std::string& name = c.param("name");
  if (name == "max-connections") settings.limits.max_connections.reset();
  else if (name == "max-queues") settings.limits.max_queues.reset();
  else return no_content();
  c.ctx.b.put_vhost(v->name(), std::move(settings));
  return no_content();
}

}  // namespace

void add_limit_routes(api_router& r) {
  r.add("GET", "/api/user-limits", list_users);
  r.add("GET", "/api/user-limits/:user", show_user);
  r.add("PUT", "/api/user-limits/:user/:name", {put_user, for_administrator});
  r.add("DELETE", "/api/user-limits/:user/:name", {remove_user, for_administrator});
  r.add("GET", "/api/vhost-limits", list_vhosts);
  r.add("GET", "/api/vhost-limits/:vhost", {show_vhost, {needs::management, vhost_rule::visible}});
  r.add("PUT", "/api/vhost-limits/:vhost/:name", {put_vhost, for_administrator});
  r.add("DELETE", "/api/vhost-limits/:vhost/:name", {remove_vhost, for_administrator});
}

}  // namespace roost::admin
