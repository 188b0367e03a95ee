// Tag- and permission-based authorisation of admin API calls: see authorization.hpp.
#include "admin-ui/authorization.hpp"

#include <algorithm>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"

namespace roost::admin {

namespace {

[[noreturn]] void not_authorised(const std::string& reason) { throw api_error(401, "not_authorised", reason); }

bool has_permissions(const broker& b, std::string_view user, std::string_view vhost) {
  return b.access().permissions(user, vhost) != nullptr;
}

// The path's vhost, when there is one and it exists (a missing one is the handler's 404).
const std::string* existing_path_vhost(const broker& b, const route_params& params) {
  auto it = params.find("vhost");
  if (it == params.end()) return nullptr;
  return b.vhosts().contains(it->second) ? &it->second : nullptr;
}

std::string refused_text(const api_call& c, const vhost& v, std::string_view kind, std::string_view name) {
  return "ACCESS_REFUSED - access to " + describe(kind, name, v.name()) + " refused for user '" + c.user.name + "'";
}

// The internal channel could not even open the vhost.
void require_vhost(const api_call& c, const vhost& v) {
  if (!has_permissions(c.ctx.b, c.user.name, v.name())) not_authorised("Access refused.");
}

}  // namespace

bool api_caller::has_tag(std::string_view tag) const { return std::find(tags.begin(), tags.end(), tag) != tags.end(); }

bool api_caller::management() const {
  return has_tag("management") || has_tag("policymaker") || has_tag("monitoring") || administrator();
}

void check_route_access(const broker& b, const api_caller& who, const route_access& rule, const route_params& params) {
  if (!who.management()) not_authorised("Not management user");
  const std::string* vhost = existing_path_vhost(b, params);
  switch (rule.tag) {
    case needs::administrator:
      if (!who.administrator()) not_authorised("Not administrator user");
      return;
    case needs::policymaker:
      if (who.administrator()) return;
      if (!who.policymaker() || (vhost != nullptr && !has_permissions(b, who.name, *vhost)))
        not_authorised("User not authorised to access object");
      return;
    case needs::monitoring:
      if (!who.monitor()) not_authorised("Not monitor user");
      break;
    case needs::management: break;
  }
  if (vhost == nullptr || who.administrator() || rule.vhost == vhost_rule::none) return;
  if (rule.vhost == vhost_rule::visible && who.monitor()) return;
  if (!has_permissions(b, who.name, *vhost)) not_authorised("User not authorised to access virtual host");
}

bool may_log_in(const api_call& c, std::string_view vhost) { return has_permissions(c.ctx.b, c.user.name, vhost); }

bool lists_vhost(const api_call& c, std::string_view vhost) { return c.user.administrator() || may_log_in(c, vhost); }

bool sees_vhost(const api_call& c, std::string_view vhost) { return c.user.monitor() || may_log_in(c, vhost); }

bool sees_user(const api_call& c, std::string_view user) { return c.user.monitor() || c.user.name == user; }

void check_object_owner(const api_call& c, std::string_view owner) {
  bool allowed = c.req.method == "DELETE" ? c.user.administrator() : c.user.monitor();
  if (!allowed && c.user.name != owner) not_authorised("User not authorised to access object");
}

// The kind names the resource at the call site; RabbitMQ's reason does not.
void require(const api_call& c, const vhost& v, access a, std::string_view /*kind*/, std::string_view name) {
  require_vhost(c, v);
  if (!c.ctx.b.access().allows(c.user.name, v.name(), a, name)) not_authorised("Access refused.");
}

void require_declare(const api_call& c, const vhost& v, std::string_view kind, std::string_view name,
                     const amqp::field_table& arguments) {
  require(c, v, access::configure, kind, name);
  const amqp::field_value* other = arguments.find(kind == "queue" ? "x-dead-letter-exchange" : "alternate-exchange");
  const std::string* other_name = other != nullptr ? other->as_string() : nullptr;
  if (other_name == nullptr) return;
  require(c, v, access::write, "exchange", *other_name);
  require(c, v, access::read, kind, name);
}

void require_binding(const api_call& c, vhost& v, std::string_view source, std::string_view kind,
                     std::string_view destination, std::string_view routing_key) {
  require(c, v, access::write, kind, destination);
  require(c, v, access::read, "exchange", source);
  const exchange* x = v.find_exchange(source);
  if (x != nullptr && x->spec().type == "topic" &&
      !c.ctx.b.access().topic_allows(c.user.name, v.name(), source, access::read, routing_key))
    not_authorised("Access refused.");
}

void require_get(const api_call& c, const vhost& v, std::string_view queue) {
  require_vhost(c, v);
  if (!c.ctx.b.access().allows(c.user.name, v.name(), access::read, queue))
    not_authorised(refused_text(c, v, "queue", queue));
}

void require_publish(const api_call& c, const vhost& v, const exchange& x, std::string_view path_name,
                     std::string_view routing_key) {
  require_vhost(c, v);
  const access_control& ac = c.ctx.b.access();
  if (!ac.allows(c.user.name, v.name(), access::write, path_name))
    bad_request("403 " + refused_text(c, v, "exchange", path_name));
  if (x.spec().type == "topic" && !ac.topic_allows(c.user.name, v.name(), x.name(), access::write, routing_key))
    bad_request("403 " + refused_text(c, v, "topic '" + std::string(routing_key) + "' in exchange", path_name));
}

}  // namespace roost::admin
