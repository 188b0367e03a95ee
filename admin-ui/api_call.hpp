// What every admin API handler gets: the request, the path parameters, the
// query, the broker state and the authenticated user; and the small helpers
// handlers share to answer. A handler is a plain function from an api_call
// to an http_response: it does no I/O, so tests call it directly. A route
// pairs it with who may call it (authorization.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin-ui/authorization.hpp"
#include "admin-ui/http_types.hpp"
#include "admin-ui/listing.hpp"
#include "admin-ui/router.hpp"

namespace roost {
class broker;
class queue;
class vhost;
}  // namespace roost

namespace roost::admin {

struct listener {
  std::string protocol;  // "amqp", "http"
  std::string address;
  std::uint16_t port = 0;
};

// Broker-wide facts the API reports besides the broker object itself.
// This node's place in a cluster (app/ keeps it current while serving).
// One follower as the leader sees it.
struct replica_status {
  std::string node_id;
  std::uint64_t acked = 0;  // the last batch its store committed
  bool connected = false;
};

// The leader's replication, read on request.
struct replication_status {
  std::uint64_t position = 0;        // the leader's last batch
  std::vector<std::string> in_sync;  // the in-sync replica list in etcd, this node among them
  std::vector<replica_status> followers;
};

struct cluster_status {
  std::string cluster;
  std::string node_id;
  std::string role;         // "leader": only the leader serves clients
  std::int64_t epoch = 0;   // the leader key's create revision in etcd
  std::function<replication_status()> replication;  // set once the leader replicates
};

struct admin_context {
  broker& b;
  std::vector<listener> listeners;
  std::string static_dir;  // the dashboard's files
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  const cluster_status* cluster = nullptr;  // null on a single node
};

struct api_call {
  const http_request& req;
  const route_params& params;
  const query_params& query;
  admin_context& ctx;
  api_caller user;

  // A path parameter the route pattern guarantees.
  const std::string& param(std::string_view name) const { return params.find(name)->second; }
  // The vhost named by the :vhost parameter, or 404.
  vhost& vh() const;
};

using api_handler = http_response (*)(const api_call&);

// The queue named by the :vhost and :name parameters, or 404.
queue& existing_queue(const api_call& c);

// A route's handler and who may call it. Implicit from a bare handler:
// management users (with permissions in the path's vhost), the common case.
//   r.add("GET", "/api/queues/:vhost", list_vhost);
//   r.add("PUT", "/api/policies/:vhost/:name", {put_policy, for_policymaker});
struct api_route {
  api_route(api_handler h, route_access a = for_management) : handler(h), access(a) {}
  api_handler handler;
  route_access access;
};
using api_router = router<api_route>;

http_response json_response(const nlohmann::json& body, int status = 200);
// 201 Created for a new resource, 204 No Content otherwise (RabbitMQ's answers to PUT/POST/DELETE).
http_response no_content();
http_response created();
// A list endpoint: apply the query's filter, sort, pagination and columns.
http_response list_response(const api_call& call, nlohmann::json items);

// Each resource file registers its routes.
void add_overview_routes(api_router& r);
void add_node_routes(api_router& r);
void add_queue_routes(api_router& r);
void add_queue_message_routes(api_router& r);
void add_message_repair_routes(api_router& r);
void add_redrive_routes(api_router& r);
void add_scheduled_routes(api_router& r);
void add_exchange_routes(api_router& r);
void add_binding_routes(api_router& r);
void add_connection_routes(api_router& r);
void add_definition_routes(api_router& r);
void add_user_routes(api_router& r);
void add_vhost_routes(api_router& r);
void add_permission_routes(api_router& r);
void add_limit_routes(api_router& r);
void add_policy_routes(api_router& r);

}  // namespace roost::admin
