// /api/users: list, show, create or update (PUT), delete, bulk delete, the
// users without any permission; and /api/whoami. Everything but whoami is
// for administrators. Changes go through the broker (put_user,
// delete_user), which writes them to the store and closes a deleted
// user's connections (320 "user 'x' is deleted").
//
// A PUT without password or password_hash leaves the user without a
// password, even an existing one, as RabbitMQ 3.10 does ("If neither are
// set the user will not be able to log in with a password").
#include <nlohmann/json.hpp>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

const user_account& existing_user(const api_call& c) {
  const user_account* u = c.ctx.b.access().find_user(c.param("user"));
  if (u == nullptr) not_found("Not Found");
  return *u;
}

http_response whoami(const api_call& c) { return json_response(json{{"name", c.user.name}, {"tags", c.user.tags}}); }

http_response list(const api_call& c) {
  json items = json::array();
  for (const auto& [name, account] : c.ctx.b.access().users()) items.push_back(user_json(account));
  return list_response(c, std::move(items));
}

http_response without_permissions(const api_call& c) {
  const access_control& ac = c.ctx.b.access();
  json items = json::array();
  for (const auto& [name, account] : ac.users()) {
    bool has_any = false;
    for (const auto& [key, p] : ac.all_permissions()) has_any = has_any || key.first == name;
    if (!has_any) items.push_back(user_json(account));
  }
  return list_response(c, std::move(items));
}

http_response show(const api_call& c) { return json_response(user_json(existing_user(c))); }

http_response put(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"name", "password", "password_hash", "hashing_algorithm", "tags", "limits", "administrator",
                      "vhost"});
  const std::string& name = c.param("user");
  const user_account* existing = c.ctx.b.access().find_user(name);
  user_account account = user_from_json(body, name, existing);
  bool created = existing == nullptr;
  c.ctx.b.put_user(std::move(account));
  return created ? admin::created() : no_content();
}

http_response remove(const api_call& c) {
  existing_user(c);
  c.ctx.b.delete_user(c.param("user"));
  return no_content();
}

// In order, stopping at the first name that is not a user; those before it
// stay deleted (RabbitMQ does the same).
http_response bulk_delete(const api_call& c) {
  json body = parse_body(c.req);
  require_keys(body, {"users"});
  const json& names = body["users"];
  if (!names.is_array()) bad_request("field 'users' must be a list of user names");
  for (const json& name : names)
    if (!name.is_string()) bad_request("field 'users' must be a list of user names");
  for (const json& name : names) {
    const std::string& user = name.get_ref<const std::string&>();
    if (c.ctx.b.access().find_user(user) == nullptr) bad_request_list({"no_such_user", user});
    c.ctx.b.delete_user(user);
  }
  return no_content();
}

}  // namespace

void add_user_routes(api_router& r) {
  r.add("GET", "/api/whoami", whoami);
  r.add("GET", "/api/users", {list, for_administrator});
  r.add("GET", "/api/users/without-permissions", {without_permissions, for_administrator});
  r.add("POST", "/api/users/bulk-delete", {bulk_delete, for_administrator});
  r.add("GET", "/api/users/:user", {show, for_administrator});
  r.add("PUT", "/api/users/:user", {put, for_administrator});
  r.add("DELETE", "/api/users/:user", {remove, for_administrator});
}

}  // namespace roost::admin
