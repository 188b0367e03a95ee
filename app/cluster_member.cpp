// Leadership events to serving and stepping down; see cluster_member.hpp.
#include "app/cluster_member.hpp"

#include <nlohmann/json.hpp>

#include "broker/common/log.hpp"

namespace roost::app {

namespace {

using namespace std::chrono_literals;

// How long a deposed leader waits for its clients to take their
// connection.close before it drops them and starts again.
constexpr auto step_down_grace = 1s;

// This node's registration: how other nodes, tools and tests reach it.
std::string registration(const options& opts) {
  const cluster_options& c = opts.cluster;
  nlohmann::json node{{"id", c.node_id}, {"host", c.advertise}, {"http", opts.http_port}, {"version", ROOST_VERSION}};
  if (opts.amqp_port) node["amqp"] = *opts.amqp_port;
  if (opts.amqps_port) node["amqps"] = *opts.amqps_port;
  return node.dump();
}

// etcd answers within milliseconds; a request still open after a third of
// the lease is one the lease cannot wait for.
std::chrono::milliseconds etcd_timeout(std::chrono::seconds ttl) {
  return std::max<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 3, 200ms);
}

}  // namespace

cluster_member::cluster_member(const options& opts, boost::asio::io_context& io, net::tls_server_credentials* tls)
    : opts_(opts),
      io_(io),
      tls_(tls),
      etcd_(io, opts.cluster.etcd, etcd_timeout(opts.cluster.lease_ttl)),
      leadership_(etcd_, {opts.cluster.name, opts.cluster.node_id, registration(opts), opts.cluster.lease_ttl},
                  {[this](std::int64_t epoch) { elected(epoch); },
                   [](const std::string& leader) { log::info("following the leader " + leader); },
                   [this](const std::string& reason) { deposed(reason); },
                   {},
                   [](const std::string& text) { log::warning(text); }}),
      status_{opts.cluster.name, opts.cluster.node_id, "follower", 0},
      drain_timer_(io) {}

void cluster_member::start() {
  log::info("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " joining through etcd at " +
            etcd_.current_endpoint());
  leadership_.start();
}

void cluster_member::resign() {
  log::info("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " leaves the cluster");
  leadership_.resign([this] { resigned_ = true; });
}

void cluster_member::elected(std::int64_t epoch) {
  status_.role = "leader";
  status_.epoch = epoch;
  log::info("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " is the leader, epoch " +
            std::to_string(epoch));
  node_ = serving_node::start(opts_, io_, tls_, &status_);
  if (!node_) {
    // The store cannot be served (damaged, unwritable): this node must not
    // lead. Exiting lets the lease run out, so another node takes over.
    exit_code_ = 1;
    io_.stop();
    return;
  }
  node_->broker().set_confirm_gate(
      [this] { return std::chrono::steady_clock::now() < leadership_.lease_valid_until(); });
}

void cluster_member::deposed(const std::string& reason) {
  log::warning("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " steps down: " + reason);
  std::printf("stepping down: %s\n", reason.c_str());
  std::fflush(stdout);
  restart_ = true;
  if (!node_) {
    io_.stop();
    return;
  }
  node_->stop("leader lease lost");
  stop_when_drained(std::chrono::steady_clock::now() + step_down_grace);
}

void cluster_member::stop_when_drained(std::chrono::steady_clock::time_point deadline) {
  if (node_->drained() || std::chrono::steady_clock::now() >= deadline) {
    io_.stop();
    return;
  }
  drain_timer_.expires_after(20ms);
  drain_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
    if (!ec) stop_when_drained(deadline);
  });
}

}  // namespace roost::app
