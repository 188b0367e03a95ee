// /api/policies and /api/operator-policies: list (all, per vhost), show,
// set and clear. Setting goes through vhost::put_policy, which applies the
// policy to the vhost's queues and exchanges at once and stores it.
// Statuses and reasons are RabbitMQ 3.10's, measured on a real node.
#include "admin-ui/api_policies.hpp"

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/authorization.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/policy/erlang_term.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

[[noreturn]] void missing() { not_found("Not Found"); }

// RabbitMQ's API escapes HTML in a policy's refusal, not in an operator policy's.
[[noreturn]] void refuse(policy_kind kind, const std::string& text) {
  std::string reason = "Validation failed\n\n" + text;
  bad_request(kind == policy_kind::regular ? erlang::escape_html(reason) : reason);
}

vhost& existing_vhost(const api_call& c) {
  vhost* v = c.ctx.b.find_vhost(c.param("vhost"));
  if (v == nullptr) missing();
  return *v;
}

// Only the vhosts the caller may use, as RabbitMQ filters its list.
template <policy_kind kind>
http_response list_all(const api_call& c) {
  json items = json::array();
  for (const auto& [vhost_name, v] : c.ctx.b.vhosts())
    if (lists_vhost(c, vhost_name))
      for (const auto& [name, p] : v->policies().all(kind)) items.push_back(policy_json(*p));
  return list_response(c, std::move(items));
}

template <policy_kind kind>
http_response list_vhost(const api_call& c) {
  json items = json::array();
  for (const auto& [name, p] : existing_vhost(c).policies().all(kind)) items.push_back(policy_json(*p));
  return list_response(c, std::move(items));
}

template <policy_kind kind>
http_response show(const api_call& c) {
  policy_ref p = existing_vhost(c).policies().find(kind, c.param("name"));
  if (p == nullptr) missing();
  return json_response(policy_json(*p));
}

template <policy_kind kind>
http_response put(const api_call& c) {
  vhost* v = c.ctx.b.find_vhost(c.param("vhost"));
  if (v == nullptr) throw api_error(404, "not_found", "vhost_not_found");
  policy_ref p = parse_policy(v->name(), c.param("name"), parse_body(c.req), kind);
  return v->put_policy(std::move(p)) ? created() : no_content();
}

template <policy_kind kind>
http_response remove(const api_call& c) {
  if (!existing_vhost(c).delete_policy(kind, c.param("name"))) missing();
  return no_content();
}

// As RabbitMQ 3.10.8 answers: any management user lists the policies of
// its vhosts; one policy, read or changed, takes the policymaker tag (with
// permissions in the vhost), one operator policy the administrator tag.
template <policy_kind kind>
void add_routes(api_router& r, const std::string& base, route_access one) {
  r.add("GET", base, list_all<kind>);
  r.add("GET", base + "/:vhost", list_vhost<kind>);
  r.add("GET", base + "/:vhost/:name", {show<kind>, one});
  r.add("PUT", base + "/:vhost/:name", {put<kind>, one});
  r.add("DELETE", base + "/:vhost/:name", {remove<kind>, one});
}

}  // namespace

json policy_json(const policy& p) {
  return json{{"vhost", p.vhost()},
              {"name", p.name()},
              {"pattern", p.pattern()},
              {"apply-to", std::string(target_name(p.apply_to()))},
              {"definition", to_json(p.definition())},
              {"priority", p.priority()}};
}

policy_ref parse_policy(const std::string& vhost, const std::string& name, const json& body, policy_kind kind) {
  // RabbitMQ's with_decode: the mandatory fields first, all missing ones named.
  std::string absent;
  for (const char* key : {"pattern", "definition"})
    if (!body.contains(key)) absent += std::string(absent.empty() ? "" : ",") + "{key_missing," + key + "}";
  if (!absent.empty()) bad_request("[" + absent + "]");
  const json& definition = body["definition"];
  // RabbitMQ answers 500 (a crash) to a definition that is not an object; this is its validator's text.
  if (!definition.is_object())
    refuse(kind, "definition must be a dictionary: " + erlang::flat(field_from_json(definition)) + "\n");
  policy_input in;
  in.vhost = vhost;
  in.name = name;
  in.kind = kind;
  in.pattern = field_from_json(body["pattern"]);
  if (body.contains("apply-to")) in.apply_to = field_from_json(body["apply-to"]);
  if (body.contains("priority")) in.priority = field_from_json(body["priority"]);
  in.definition = table_from_json(definition, "definition");
  try {
    return validate_policy(in);
  } catch (const policy_invalid& e) {
    refuse(kind, e.what());
  }
}

void add_policy_routes(api_router& r) {
  add_routes<policy_kind::regular>(r, "/api/policies", for_policymaker);
  add_routes<policy_kind::operator_policy>(r, "/api/operator-policies", for_administrator);
}

}  // namespace roost::admin
