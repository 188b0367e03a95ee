// A node of a cluster (--cluster-etcd): registers with etcd and campaigns
// for leadership (cluster/leadership.hpp); while it leads, it serves
// clients through a serving_node recovered from its own store; when its
// lease is lost it closes every client (320 CONNECTION_FORCED) and asks
// main to start the process again, as a follower.
//
// Why a fresh process rather than an in-place demotion: a deposed leader's
// memory may hold work the new leader never saw (publishes it could not
// confirm). The one state it may keep is what its store holds, and a
// fresh start builds exactly that, through the recovery every restart
// already uses.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "admin-ui/api_call.hpp"
#include "app/command_line.hpp"
#include "app/serving_node.hpp"
#include "cluster/etcd_client.hpp"
#include "cluster/leadership.hpp"
#include "net/tls_server_context.hpp"

namespace roost::app {

class cluster_member {
 public:
  // opts and tls (null without a certificate) must outlive the member.
  cluster_member(const options& opts, boost::asio::io_context& io, net::tls_server_credentials* tls);

  void start();
  // SIGTERM: hand the leadership over at once (see leadership::resign).
  void resign();
  bool resigned() const { return resigned_; }
  // The serving broker while this node leads, else null.
  serving_node* serving() { return node_.get(); }
  // Set when the process should start again (deposed) or exit with an error.
  bool restart_requested() const { return restart_; }
  int exit_code() const { return exit_code_; }

 private:
  void elected(std::int64_t epoch);
  void deposed(const std::string& reason);
  void stop_when_drained(std::chrono::steady_clock::time_point deadline);

  const options& opts_;
  boost::asio::io_context& io_;
  net::tls_server_credentials* tls_;
  cluster::etcd_client etcd_;
  cluster::leadership leadership_;
  admin::cluster_status status_;
  std::unique_ptr<serving_node> node_;
  boost::asio::steady_timer drain_timer_;
  bool restart_ = false;
  bool resigned_ = false;
  int exit_code_ = 0;
};

}  // namespace roost::app
