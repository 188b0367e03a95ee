// /api/overview, /api/whoami, /api/vhosts, /api/users, /api/permissions and
// the health checks. Roost has one vhost ("/") and the accounts the broker
// was started with; these endpoints are read-only.
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

// The RabbitMQ release whose management API Roost reproduces; tools look
// at rabbitmq_version to decide which endpoints exist.
constexpr const char* api_compatible_version = "3.10.8";

struct totals {
  std::size_t ready = 0;
  std::size_t unacked = 0;
  std::size_t queues = 0;
  std::size_t exchanges = 0;
  std::size_t consumers = 0;
};

totals count_vhost(const vhost& v, const unacked_counts& unacked) {
  totals t;
  for (const auto& [name, q] : v.queues()) {
    t.ready += q->ready_count();
    t.consumers += q->consumer_count();
    auto it = unacked.find(q.get());
    if (it != unacked.end()) t.unacked += it->second;
  }
  t.queues = v.queues().size();
  t.exchanges = v.exchanges().size();
  return t;
}

json queue_totals(const totals& t) {
  // Depth rates (messages_details) are not sampled: only message event rates are.
  return json{{"messages", t.ready + t.unacked}, {"messages_ready", t.ready}, {"messages_unacknowledged", t.unacked}};
}

http_response overview(const api_call& c) {
  broker& b = c.ctx.b;
  unacked_counts unacked = count_unacked(b);
  totals all;
  for (const auto& [name, v] : b.vhosts()) {
    totals t = count_vhost(*v, unacked);
    all.ready += t.ready;
    all.unacked += t.unacked;
    all.queues += t.queues;
    all.exchanges += t.exchanges;
    all.consumers += t.consumers;
  }
  std::size_t channels = 0;
  for (const auto& [id, conn] : b.connections()) channels += conn->channels().size();
  json listeners = json::array();
  for (const listener& l : c.ctx.listeners)
    listeners.push_back(json{{"node", node_name()}, {"protocol", l.protocol}, {"ip_address", l.address}, {"port", l.port}});
  return json_response(json{
      {"management_version", api_compatible_version},
      {"rabbitmq_version", api_compatible_version},
      {"product_name", "Roost"},
      {"product_version", ROOST_VERSION},
      {"cluster_name", node_name()},
      {"node", node_name()},
      {"object_totals",
       {{"connections", b.connections().size()},
        {"channels", channels},
        {"exchanges", all.exchanges},
        {"queues", all.queues},
        {"consumers", all.consumers}}},
      {"queue_totals", queue_totals(all)},
      {"message_stats", message_stats_json(b.stats(), zero_events::include)},
      {"listeners", listeners},
      {"uptime_ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                           c.ctx.started)
                        .count()}});
}

http_response whoami(const api_call& c) { return json_response(json{{"name", c.user}, {"tags", {"administrator"}}}); }

json vhost_json(const vhost& v, const unacked_counts& unacked) {
  totals t = count_vhost(v, unacked);
  json out = queue_totals(t);
  out["name"] = v.name();
  out["description"] = v.name() == "/" ? "Default virtual host" : "";
  out["tracing"] = false;
  out["cluster_state"] = {{node_name(), "running"}};
  return out;
}

http_response vhosts(const api_call& c) {
  unacked_counts unacked = count_unacked(c.ctx.b);
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts()) items.push_back(vhost_json(*v, unacked));
  return list_response(c, std::move(items));
}

http_response show_vhost(const api_call& c) { return json_response(vhost_json(c.vh(), count_unacked(c.ctx.b))); }

json user_json(const user_account& u) { return json{{"name", u.name}, {"tags", u.tags}, {"limits", json::object()}}; }

http_response users(const api_call& c) {
  json items = json::array();
  for (const auto& [name, account] : c.ctx.b.access().users()) items.push_back(user_json(account));
  return list_response(c, std::move(items));
}

http_response show_user(const api_call& c) {
  const user_account* u = c.ctx.b.access().find_user(c.param("user"));
  if (u == nullptr) not_found("no user '" + c.param("user") + "'");
  return json_response(user_json(*u));
}

json permissions_json(const broker& b) {
  json items = json::array();
  for (const auto& [key, p] : b.access().all_permissions())
    items.push_back(json{{"user", key.first}, {"vhost", key.second}, {"configure", p.source(access::configure)},
                         {"write", p.source(access::write)}, {"read", p.source(access::read)}});
  return items;
}

http_response permissions(const api_call& c) { return list_response(c, permissions_json(c.ctx.b)); }

http_response health(bool ok, const std::string& reason) {
  if (ok) return json_response(json{{"status", "ok"}});
  return json_response(json{{"status", "failed"}, {"reason", reason}}, 503);
}

http_response alarms(const api_call& c) {
  broker& b = c.ctx.b;
  if (b.disk_alarm()) return health(false, "resource alarm in effect: disk free space below the limit");
  if (b.store_alarm()) return health(false, "resource alarm in effect: store backlog over its high-water mark");
  return health(true, "");
}

// Every vhost exists as long as the broker runs: nothing can be down.
http_response virtual_hosts(const api_call&) { return health(true, ""); }

http_response port_listener(const api_call& c) {
  for (const listener& l : c.ctx.listeners)
    if (std::to_string(l.port) == c.param("port")) return health(true, "");
  return health(false, "no listener on port " + c.param("port"));
}

}  // namespace

void add_overview_routes(api_router& r) {
  r.add("GET", "/api/overview", overview);
  r.add("GET", "/api/whoami", whoami);
  r.add("GET", "/api/vhosts", vhosts);
  r.add("GET", "/api/vhosts/:vhost", show_vhost);
  r.add("GET", "/api/users", users);
  r.add("GET", "/api/users/:user", show_user);
  r.add("GET", "/api/permissions", permissions);
  r.add("GET", "/api/health/checks/alarms", alarms);
  r.add("GET", "/api/health/checks/virtual-hosts", virtual_hosts);
  r.add("GET", "/api/health/checks/port-listener/:port", port_listener);
}

}  // namespace roost::admin
