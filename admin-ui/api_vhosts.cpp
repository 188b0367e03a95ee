// /api/vhosts: list (monitors see every vhost, others those they have
// permissions in), show, create or update (PUT), delete. Creating, showing
// and deleting are for administrators.
//
// A PUT replaces the description and tags (absent: empty, as RabbitMQ
// 3.10 does) and keeps the limits; default_queue_type is kept unless given.
// A new vhost gives its creator every permission in it, as RabbitMQ does.
// Deleting closes the vhost's connections (320 "vhost 'x' is deleted") and
// removes everything in it, its permissions and its limits.
#include <nlohmann/json.hpp>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

http_response list(const api_call& c) {
  unacked_counts unacked = count_unacked(c.ctx.b);
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts())
    if (sees_vhost(c, name)) items.push_back(vhost_json(*v, unacked));
  return list_response(c, std::move(items));
}

http_response show(const api_call& c) { return json_response(vhost_json(c.vh(), count_unacked(c.ctx.b))); }

http_response put(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"name", "vhost", "description", "tags", "tracing", "default_queue_type"});
  if (bool_field(body, "tracing", false)) bad_request("tracing is not supported by Roost");
  const std::string& name = c.param("vhost");
  vhost* existing = c.ctx.b.find_vhost(name);
  vhost_settings settings = existing != nullptr ? existing->settings() : vhost_settings{};
  settings.description = string_field(body, "description", "");
  settings.tags = body.contains("tags") ? tags_from_json(body["tags"], "tags") : std::vector<std::string>{};
  settings.default_queue_type = default_queue_type_from_json(body, settings.default_queue_type);
  c.ctx.b.put_vhost(name, std::move(settings));
  if (existing != nullptr) return no_content();
  c.ctx.b.set_permissions(c.user.name, name, ".*", ".*", ".*");
  return created();
}

http_response remove(const api_call& c) {
  if (c.ctx.b.find_vhost(c.param("vhost")) == nullptr) not_found("Not Found");
  c.ctx.b.delete_vhost(c.param("vhost"));
  return no_content();
}

}  // namespace

void add_vhost_routes(api_router& r) {
  r.add("GET", "/api/vhosts", list);
  r.add("GET", "/api/vhosts/:vhost", {show, for_administrator});
  r.add("PUT", "/api/vhosts/:vhost", {put, for_administrator});
  r.add("DELETE", "/api/vhosts/:vhost", {remove, for_administrator});
}

}  // namespace roost::admin
