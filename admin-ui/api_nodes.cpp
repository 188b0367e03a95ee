// /api/nodes: the one node Roost is, with the resource alarms' figures as
// RabbitMQ reports them (mem_used / mem_limit / mem_alarm, disk_free /
// disk_free_limit / disk_free_alarm), for monitoring users, as in RabbitMQ;
// in a cluster also its role and the leader's epoch.
#include <algorithm>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/authorization.hpp"
#include "admin-ui/broker_view.hpp"
#include "broker/model/broker.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

json node_json(const api_call& c) {
  broker& b = c.ctx.b;
  auto uptime = std::chrono::steady_clock::now() - c.ctx.started;
  json node{{"name", node_name()},
            {"type", "disc"},
            {"running", true},
            {"being_drained", false},
            {"os_pid", std::to_string(::getpid())},
            {"processors", std::thread::hardware_concurrency()},
            {"uptime", std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count()},
            {"mem_used", b.memory_used()},
            {"mem_limit", b.memory_limit()},
            {"mem_alarm", b.memory_alarm()},
            {"mem_calculation_strategy", "rss"},
            {"disk_free", b.disk_free()},
            {"disk_free_limit", b.cfg().disk_free_limit},
            {"disk_free_alarm", b.disk_alarm()},
            {"sockets_used", b.connections().size()}};
  if (const cluster_status* cluster = c.ctx.cluster) {
    node["cluster_name"] = cluster->cluster;
    node["node_id"] = cluster->node_id;
    node["role"] = cluster->role;
    node["epoch"] = cluster->epoch;
    if (cluster->replication) {
      replication_status r = cluster->replication();
      json followers = json::array();
      for (const replica_status& f : r.followers) {
        bool listed = std::find(r.in_sync.begin(), r.in_sync.end(), f.node_id) != r.in_sync.end();
        followers.push_back({{"node_id", f.node_id},
                             {"position", f.acked},
                             {"lag", r.position - std::min(r.position, f.acked)},
                             {"connected", f.connected},
                             {"in_sync", listed}});
      }
      node["replication"] = {{"position", r.position}, {"in_sync_replicas", r.in_sync}, {"followers", followers}};
    }
  }
  return node;
}

http_response list(const api_call& c) { return list_response(c, json::array({node_json(c)})); }

http_response show(const api_call& c) {
  if (c.param("node") != node_name()) not_found();
  return json_response(node_json(c));
}

}  // namespace

void add_node_routes(api_router& r) {
  r.add("GET", "/api/nodes", {list, for_monitoring});
  r.add("GET", "/api/nodes/:node", {show, for_monitoring});
}

}  // namespace roost::admin
