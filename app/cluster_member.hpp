// A node of a cluster (--cluster-etcd): registers with etcd and campaigns
// for leadership (cluster/leadership.hpp). While it follows, it applies the
// leader's batches to its own store (replication/follower_link.hpp) and
// passes the clients that connect to its ports on to the leader
// (replication/client_proxy.hpp), which serves them as its own. Once
// elected it serves clients through a serving_node recovered from that
// store, ships every batch it commits to the followers and confirms only
// what the in-sync replicas hold (replication/leader_link.hpp); when its
// lease is lost it closes every client (320 CONNECTION_FORCED) and asks
// main to start the process again, as a follower.
//
// Why a fresh process rather than an in-place demotion: a deposed leader's
// memory may hold work the new leader never saw (publishes it could not
// confirm). The one state it may keep is what its store holds, and a
// fresh start builds exactly that, through the recovery every restart
// already uses.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>
#include <string>

#include "admin-ui/api_call.hpp"
#include "app/command_line.hpp"
#include "app/serving_node.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/leadership.hpp"
#include "net/tls_server_context.hpp"
#include "replication/client_proxy.hpp"
#include "replication/follower_link.hpp"
#include "replication/leader_link.hpp"

namespace roost::app {

class cluster_member {
 public:
  // opts and tls (null without a certificate) must outlive the member.
  cluster_member(const options& opts, boost::asio::io_context& io, net::tls_server_credentials* tls);
  ~cluster_member();

  // Binds the replication port, opens the store as a follower and joins
  // (once the secret is read from etcd, without --cluster-secret); false
  // (with the reason printed) if it cannot.
  bool start();
  // SIGTERM: hand the leadership over at once (see leadership::resign).
  void resign();
  bool resigned() const { return resigned_; }
  // The serving broker while this node leads, else null.
  serving_node* serving() { return node_.get(); }
  // Set when the process should start again (deposed) or exit with an error.
  bool restart_requested() const { return restart_; }
  int exit_code() const { return exit_code_; }

 private:
  boost::asio::awaitable<std::string> secret_from_etcd();
  bool join();
  bool follow_from_store(std::uint64_t& position);
  std::string snapshot_path() const;
  void install_snapshot();
  void elected(std::int64_t epoch);
  void following(const std::string& leader);
  void deposed(const std::string& reason);
  bool forward_clients();
  // serving_node's hook, between reading the store and restoring the broker.
  void lead(std::int64_t epoch, storage::store& durable, const storage::recovered_state& recovered);
  void write_isr(const std::vector<std::string>& members, std::function<void(bool)> done);
  boost::asio::awaitable<bool> put_if_leading(std::string request);
  void stop_when_drained(std::chrono::steady_clock::time_point deadline);

  const options& opts_;
  boost::asio::io_context& io_;
  net::tls_server_credentials* tls_;
  cluster::etcd_client etcd_;
  boost::asio::ip::tcp::acceptor replication_acceptor_;
  std::uint16_t replication_port_ = 0;  // bound
  std::string secret_;                  // --cluster-secret, or etcd's
  // --replication-tls: what the leader presents, what a follower verifies it with.
  std::unique_ptr<boost::asio::ssl::context> link_server_tls_;
  std::unique_ptr<boost::asio::ssl::context> link_client_tls_;
  std::optional<cluster::leadership> leadership_;  // from start(), once the registration is known
  std::unique_ptr<storage::store> follower_store_;
  std::unique_ptr<replication::follower_link> follower_;
  std::unique_ptr<replication::leader_link> leader_link_;
  std::unique_ptr<replication::client_proxy> proxy_;  // while following
  replication::batch_log retained_{0};
  std::string leader_host_;  // the leader's replication address, once known
  std::uint16_t leader_port_ = 0;  // from the follower to the leader, at election
  admin::cluster_status status_;
  std::unique_ptr<serving_node> node_;
  boost::asio::steady_timer drain_timer_;
  bool restart_ = false;
  bool resigned_ = false;
  int exit_code_ = 0;
};

}  // namespace roost::app
