// /api/definitions: export in RabbitMQ 3.10's JSON shape (users with their
// hashes and limits, vhosts by name, permissions, topic permissions, vhost
// limits and operator policies as parameters, policies, exchanges, queues,
// bindings; one
// function per section), and import (definitions_import.cpp: checked whole,
// then applied). Administrators only, as in RabbitMQ.
#include <nlohmann/json.hpp>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/api_policies.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/definitions.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr const char* api_compatible_version = "3.10.8";

bool exported_exchange(const exchange& x) { return !x.name().empty() && !x.name().starts_with("amq."); }

// Queues, exchanges and bindings of one vhost, appended to out's lists.
void export_topology(vhost& v, json& out, bool with_vhost) {
  auto tag = [&](json item) {
    if (with_vhost) item["vhost"] = v.name();
    return item;
  };
  for (const auto& [name, q] : v.queues()) {
    if (q->options().exclusive) continue;
    out["queues"].push_back(tag(json{{"name", name}, {"durable", q->durable()},
                                     {"auto_delete", q->options().auto_delete},
                                     {"arguments", to_json(q->options().arguments)}}));
  }
  for (const auto& [name, x] : v.exchanges()) {
    if (!exported_exchange(*x)) continue;
    const exchange_spec& s = x->spec();
    out["exchanges"].push_back(tag(json{{"name", name}, {"type", s.type},
                                        {"durable", s.durable == durability::durable},
                                        {"auto_delete", s.auto_delete}, {"internal", s.internal},
                                        {"arguments", to_json(s.arguments)}}));
  }
  for (const auto& [name, x] : v.exchanges())
    for (const binding& b : x->bindings()) {
      if (b.destination.kind == routing::destination_kind::queue) {
        const queue* q = v.queue_by_id(b.destination.id);
        if (q == nullptr || q->options().exclusive) continue;
      }
      json item = binding_json(v, *x, b);
      item.erase("properties_key");
      item.erase("vhost");
      out["bindings"].push_back(tag(std::move(item)));
    }
}

json export_users(const broker& b) {
  json out = json::array();
  for (const auto& [name, account] : b.access().users()) out.push_back(user_json(account));
  return out;
}

// RabbitMQ 3.10 exports a vhost by its name only; its limits go to the parameters.
json export_vhosts(const broker& b) {
  json out = json::array();
  for (const auto& [name, v] : b.vhosts()) out.push_back(json{{"name", name}});
  return out;
}

json export_permissions(const broker& b) {
  json out = json::array();
  for (const auto& [key, p] : b.access().all_permissions()) out.push_back(permission_json(key.first, key.second, p));
  return out;
}

json export_topic_permissions(const broker& b) {
  json out = json::array();
  for (const auto& [key, rules] : b.access().all_topic_permissions())
    for (const auto& [exchange, t] : rules) out.push_back(topic_permission_json(key.first, key.second, exchange, t));
  return out;
}

// Runtime parameters: vhost limits ("vhost-limits", named "limits") and
// operator policies ("operator_policy", the policy's fields as the value),
// as RabbitMQ 3.10 exports them.
json export_parameters(const broker& b, const vhost* only) {
  json out = json::array();
  for (const auto& [name, v] : b.vhosts()) {
    if (only != nullptr && v.get() != only) continue;
    json limits = vhost_limits_json(v->settings().limits);
    if (!limits.empty())
      out.push_back(json{{"vhost", name}, {"component", "vhost-limits"}, {"name", "limits"}, {"value", limits}});
    for (const auto& [policy_name, p] : v->policies().all(policy_kind::operator_policy)) {
      json value = policy_json(*p);
      value.erase("vhost");
      value.erase("name");
      out.push_back(json{{"vhost", name}, {"component", "operator_policy"}, {"name", policy_name}, {"value", value}});
    }
  }
  return out;
}

json export_policies(const broker& b, const vhost* only) {
  json out = json::array();
  for (const auto& [name, v] : b.vhosts())
    if (only == nullptr || v.get() == only)
      for (const auto& [policy_name, p] : v->policies().all(policy_kind::regular)) out.push_back(policy_json(*p));
  return out;
}

http_response export_all(const api_call& c) {
  broker& b = c.ctx.b;
  json out{{"rabbit_version", api_compatible_version}, {"rabbitmq_version", api_compatible_version},
           {"product_name", "Roost"}, {"product_version", ROOST_VERSION},
           {"users", export_users(b)}, {"vhosts", export_vhosts(b)}, {"permissions", export_permissions(b)},
           {"topic_permissions", export_topic_permissions(b)}, {"parameters", export_parameters(b, nullptr)},
           {"global_parameters", json::array()}, {"policies", export_policies(b, nullptr)},
           {"queues", json::array()}, {"exchanges", json::array()}, {"bindings", json::array()}};
  for (const auto& [name, v] : b.vhosts()) export_topology(*v, out, true);
  return json_response(out);
}

// RabbitMQ 3.10's per-vhost document: no rabbitmq_version, no users, vhosts or permissions.
http_response export_vhost_only(const api_call& c) {
  vhost& v = c.vh();
  json out{{"rabbit_version", api_compatible_version}, {"parameters", export_parameters(c.ctx.b, &v)},
           {"policies", export_policies(c.ctx.b, &v)}, {"queues", json::array()}, {"exchanges", json::array()},
           {"bindings", json::array()}};
  export_topology(v, out, false);
  return json_response(out);
}

// The importing account gets every permission in the vhosts it creates; the
// control socket's operator is no account (rabbitmqctl's imports grant nothing).
const std::string* acting_user(const api_call& c) { return c.user.is_operator() ? nullptr : &c.user.name; }

http_response import_all(const api_call& c) {
  import_definitions(c.ctx.b, parse_body(c.req), import_scope{nullptr, acting_user(c)});
  return no_content();
}

http_response import_vhost(const api_call& c) {
  import_definitions(c.ctx.b, parse_body(c.req), import_scope{&c.vh(), acting_user(c)});
  return no_content();
}

}  // namespace

void add_definition_routes(api_router& r) {
  r.add("GET", "/api/definitions", {export_all, for_administrator});
  r.add("POST", "/api/definitions", {import_all, for_administrator});
  r.add("GET", "/api/definitions/:vhost", {export_vhost_only, for_administrator});
  r.add("POST", "/api/definitions/:vhost", {import_vhost, for_administrator});
}

}  // namespace roost::admin
