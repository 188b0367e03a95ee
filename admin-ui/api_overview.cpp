// /api/overview and the health checks. A monitor (or administrator) sees
// the whole broker; a management user sees totals over the vhosts it has
// permissions in and its own connections, and no listeners, as in RabbitMQ.
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

http_response overview(const api_call& c) {
  broker& b = c.ctx.b;
  bool everything = c.user.monitor();
  unacked_counts unacked = count_unacked(b);
  vhost_totals all;
  for (const auto& [name, v] : b.vhosts()) {
    if (!everything && !may_log_in(c, name)) continue;
    vhost_totals t = count_vhost(*v, unacked);
    all.ready += t.ready;
    all.unacked += t.unacked;
    all.queues += t.queues;
    all.exchanges += t.exchanges;
    all.consumers += t.consumers;
  }
  std::size_t connections = 0;
  std::size_t channels = 0;
  for (const auto& [id, conn] : b.connections()) {
    if (!everything && conn->user() != c.user.name) continue;
    ++connections;
    channels += conn->channels().size();
  }
  json totals{{"connections", connections}, {"channels", channels}, {"exchanges", all.exchanges}, {"queues", all.queues}};
  json out{{"management_version", api_compatible_version},
           {"rabbitmq_version", api_compatible_version},
           {"product_name", "Roost"},
           {"product_version", ROOST_VERSION},
           {"cluster_name", node_name()},
           {"object_totals", totals},
           {"queue_totals", queue_totals_json(all)},
           {"message_stats", message_stats_json(b.stats(), zero_events::include)},
           {"uptime_ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                               c.ctx.started)
                             .count()}};
  if (everything) {
    json listeners = json::array();
    for (const listener& l : c.ctx.listeners)
      listeners.push_back(
          json{{"node", node_name()}, {"protocol", l.protocol}, {"ip_address", l.address}, {"port", l.port}});
    out["object_totals"]["consumers"] = all.consumers;
    out["node"] = node_name();
    out["listeners"] = std::move(listeners);
  }
  return json_response(out);
}

http_response health(bool ok, const std::string& reason) {
  if (ok) return json_response(json{{"status", "ok"}});
  return json_response(json{{"status", "failed"}, {"reason", reason}}, 503);
}

http_response alarms(const api_call& c) {
  broker& b = c.ctx.b;
  if (b.memory_alarm()) return health(false, "resource alarm in effect: memory used above the high watermark");
  if (b.disk_alarm()) return health(false, "resource alarm in effect: disk free space below the limit");
  if (b.store_alarm()) return health(false, "resource alarm in effect: store backlog over its high-water mark");
  return health(true, "");
}

// Every vhost exists as long as the broker runs: nothing can be down.
http_response virtual_hosts(const api_call&) { return health(true, ""); }

// RabbitMQ: 503 if stopping this node would leave a quorum queue without a
// majority. Here: if this leader is the only in-sync replica, no other node
// may take over when it stops.
http_response quorum_critical(const api_call& c) {
  const cluster_status* cluster = c.ctx.cluster;
  if (cluster == nullptr || !cluster->replication) return health(true, "");
  replication_status r = cluster->replication();
  if (r.in_sync.size() <= 1)
    return health(false, "this node is the cluster's only in-sync replica: if it stops, no other node may lead");
  return health(true, "");
}

http_response port_listener(const api_call& c) {
  for (const listener& l : c.ctx.listeners)
    if (std::to_string(l.port) == c.param("port")) return health(true, "");
  return health(false, "no listener on port " + c.param("port"));
}

}  // namespace

void add_overview_routes(api_router& r) {
  r.add("GET", "/api/overview", overview);
  r.add("GET", "/api/health/checks/alarms", alarms);
  r.add("GET", "/api/health/checks/virtual-hosts", virtual_hosts);
  r.add("GET", "/api/health/checks/port-listener/:port", port_listener);
  r.add("GET", "/api/health/checks/node-is-quorum-critical", quorum_critical);
}

}  // namespace roost::admin
