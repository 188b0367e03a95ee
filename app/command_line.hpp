// What the roost program is told on its command line: where to listen (plain
// and TLS), how to log and sync, where the dashboard's files are, the
// broker's own settings, and the cluster it belongs to.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/common/log.hpp"
#include "broker/model/config.hpp"
#include "cluster/etcd_client.hpp"
#include "net/tls_options.hpp"
#include "storage/store.hpp"

namespace roost::app {

// Membership of a cluster coordinated by etcd (app/cluster_member.hpp).
struct cluster_options {
  std::vector<cluster::etcd_endpoint> etcd;  // empty: a single node
  std::string name = "roost";
  std::string node_id;    // default: the host name
  std::string advertise;  // the host other nodes and clients reach this node at; default: the host name
  std::chrono::seconds lease_ttl{5};
  // The leader's replication listener (every node binds it at start: its
  // port goes into the node's registration). 0 picks a free port.
  std::uint16_t replication_port = 25672;
  // Followers prove they know it (HMAC); never logged. Empty: the one
  // etcd keeps (made by the first node).
  std::string secret;
  // The replication link through TLS: the leader presents --tls-cert, a
  // follower verifies it against --tls-ca and the leader's advertised host.
  bool replication_tls = false;
  std::chrono::milliseconds replica_lag_timeout{2000};
  // The recent batches each node keeps for followers a little behind it;
  // one further behind gets a snapshot of the whole store instead.
  std::uint64_t replication_retain = 64u << 20;
  bool enabled() const { return !etcd.empty(); }
};

struct options {
  std::string bind = "0.0.0.0";
  std::optional<std::uint16_t> amqp_port = 5672;  // 0: pick a free port and print it; none: -1, no plain listener
  std::uint16_t http_port = 15672;                // the admin API and dashboard; 0 as for amqp_port
  // The TLS listeners, only with a certificate: AMQPS on 5671 unless told
  // otherwise, HTTPS (the same API and dashboard) only when given a port.
  std::optional<std::uint16_t> amqps_port;
  std::optional<std::uint16_t> https_port;
  net::tls_options tls;
  // The dashboard's files; defaults to admin-ui/static in the source tree this was built from.
  std::string http_static = ROOST_HTTP_STATIC_DIR;
  log::level log_level = log::level::info;
  storage::sync_mode sync = storage::sync_mode::full;
  // A definitions file applied at every boot, after recovery and before the
  // listeners open (RabbitMQ's load_definitions); empty: none.
  std::string load_definitions;
  config broker;
  cluster_options cluster;
};

// Fills opts from argv. Returns an error message, or nothing on success;
// sets `exit_now` for --help/--version (already printed). Flags that need
// each other are checked here (a TLS port without a certificate, client
// verification without a CA, no AMQP listener at all), so every later step
// may rely on a consistent set.
std::optional<std::string> parse_command_line(int argc, char** argv, options& opts, bool& exit_now);

}  // namespace roost::app
