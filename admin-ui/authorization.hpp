// Who may call which admin endpoint, and what they see there: RabbitMQ's
// management plugin's rules, decided from the user's tags and permissions.
//
//   management     may use the API at all; sees and acts only in the vhosts
//                  it has permissions in, and only its own connections
//   policymaker    management, plus policies and parameters in those vhosts
//   monitoring     management, plus every vhost in /api/vhosts and every
//                  connection, channel and consumer (read-only)
//   administrator  everything: users, vhosts, permissions, limits, definitions
//
// A user without any of these tags gets 401 "Not management user" for every
// call. Each route declares what it needs (route_access, default
// management); handle_api checks it before the handler runs, and the
// handlers filter their lists with the visibility rules below. Refusals are
// 401 not_authorised with RabbitMQ's reasons, never 403.
//
// Mutations are also checked as RabbitMQ's plugin runs them: as the caller,
// over an internal AMQP channel, so the AMQP permission table applies
// (broker/protocol/channel_access.cpp) to administrators too. Pure code on
// the broker thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "admin-ui/router.hpp"
#include "broker/access/permissions.hpp"

namespace roost {
class broker;
class exchange;
class vhost;
namespace amqp {
struct field_table;
}
}  // namespace roost

namespace roost::admin {

struct api_call;

enum class needs { management, monitoring, policymaker, administrator };

// What the path's :vhost asks of a caller who is not an administrator
// (a vhost that does not exist passes: the handler answers 404).
enum class vhost_rule {
  login,    // permissions in it ("User not authorised to access virtual host")
  visible,  // permissions in it, or the monitoring tag (vhost limits)
  none,     // nothing: the handler filters (RabbitMQ's /api/consumers/{vhost})
};

struct route_access {
  needs tag = needs::management;
  vhost_rule vhost = vhost_rule::login;
};

inline constexpr route_access for_management{};
inline constexpr route_access for_monitoring{needs::monitoring};
// Policies and parameters: administrators, or policymakers with permissions in the path's vhost.
inline constexpr route_access for_policymaker{needs::policymaker};
inline constexpr route_access for_administrator{needs::administrator};

// The authenticated caller.
struct api_caller {
  std::string name;
  std::vector<std::string> tags;

  bool has_tag(std::string_view tag) const;
  bool management() const;  // any of the four tags
  bool monitor() const { return has_tag("monitoring") || administrator(); }
  bool policymaker() const { return has_tag("policymaker") || administrator(); }
  bool administrator() const { return has_tag("administrator"); }
};

// Throws api_error 401 with RabbitMQ's reason when the caller may not use a
// route with this rule and these path parameters.
void check_route_access(const broker& b, const api_caller& who, const route_access& rule, const route_params& params);

// Visibility in lists and single objects.
// The caller has permissions in the vhost (may log into it over AMQP).
bool may_log_in(const api_call& c, std::string_view vhost);
// Queues, exchanges, bindings (and policies): administrators see every vhost, others those they may log into.
bool lists_vhost(const api_call& c, std::string_view vhost);
// /api/vhosts and vhost limits: monitors see every vhost.
bool sees_vhost(const api_call& c, std::string_view vhost);
// Connections, channels, consumers: monitors see everyone's, others their own.
bool sees_user(const api_call& c, std::string_view user);
// GET of one connection or channel: a monitor or its owner; DELETE: an
// administrator or its owner. Else 401 "User not authorised to access object".
void check_object_owner(const api_call& c, std::string_view owner);

// Mutations, as the management plugin's internal channel checks them. Each
// throws api_error the way RabbitMQ reports that operation's refusal.
// Declare, delete, purge, bind, unbind: 401 "Access refused.".
void require(const api_call& c, const vhost& v, access a, std::string_view kind, std::string_view name);
// queue.declare / exchange.declare: configure, and with a dead-letter or
// alternate exchange also write on it and read on the declared one.
void require_declare(const api_call& c, const vhost& v, std::string_view kind, std::string_view name,
                     const amqp::field_table& arguments);
// Write on the destination, read on the source, topic read on the routing key.
void require_binding(const api_call& c, vhost& v, std::string_view source, std::string_view kind,
                     std::string_view destination, std::string_view routing_key);
// basic.get through the API: 401 with the AMQP reply text.
void require_get(const api_call& c, const vhost& v, std::string_view queue);
// Publishing through the API: 400 "403 ACCESS_REFUSED - ..." (the write
// check is on the exchange's path name: "amq.default" for the default one).
void require_publish(const api_call& c, const vhost& v, const exchange& x, std::string_view path_name,
                     std::string_view routing_key);

}  // namespace roost::admin
