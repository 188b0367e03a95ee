// A broker that serves clients: its two stores, the broker recovered from
// them, the AMQP, AMQPS, HTTP and HTTPS listeners, the control socket, and
// the periodic checks (disk, memory, heap release). A single node starts
// one at boot; a cluster node starts one when it is elected leader.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "admin-ui/api_call.hpp"
#include "admin-ui/http_server.hpp"
#include "app/command_line.hpp"
#include "broker/common/heap_release.hpp"
#include "broker/expiry/deadline_scheduler.hpp"
#include "broker/model/broker.hpp"
#include "broker/transport/server.hpp"
#include "net/tcp_listener.hpp"
#include "net/tls_server_context.hpp"
#include "storage/store.hpp"

namespace roost::app {

// Called with the durable store once it is read, before the broker is
// restored from it (or writes anything to it): a cluster's leader starts
// shipping batches here.
using store_hook = std::function<void(storage::store& durable, const storage::recovered_state& recovered)>;

class serving_node {
 public:
  // Opens the stores, recovers, applies --load-definitions, listens and
  // prints the "listening ..." lines. On failure prints why (one line) and
  // returns null. tls is null without a certificate; cluster is null on a
  // single node. Both must outlive the node. The io_context must have other
  // work (main's signal sets): recovery runs it until the store has answered.
  static std::unique_ptr<serving_node> start(const options& opts, boost::asio::io_context& io,
                                             net::tls_server_credentials* tls, const admin::cluster_status* cluster,
                                             const store_hook& on_read = {});
  ~serving_node();

  roost::broker& broker() { return broker_; }
  // Closes the listeners and every client (320, "... with reason '<reason>'")
  // and stops the periodic checks; the caller then runs the io_context
  // until drained() or a grace period ends.
  void stop(const std::string& reason);
  bool drained() const { return broker_.connections().empty(); }
  // A client connection a follower forwarded (replication/client_proxy),
  // served by the listener it came to on the follower ("amqp", "amqps",
  // "http", "https") as the client at `peer`; closed when this node has
  // no such listener or is stopping.
  void adopt(boost::asio::ip::tcp::socket client, const std::string& listener, const net::peer_identity& peer);
  // After the io_context has stopped: drops what is left and closes the stores.
  void finish(boost::asio::io_context& io);

 private:
  struct stores {
    std::unique_ptr<storage::store> durable;  // roost.db, synced as --sync says
    std::unique_ptr<storage::store> scratch;  // paging.db: transient messages paged out, emptied at start
  };

  serving_node(const options& opts, boost::asio::io_context& io, stores s);
  bool recover(const options& opts, boost::asio::io_context& io, const store_hook& on_read);
  bool listen(const options& opts, net::tls_server_credentials* tls);
  void announce(const std::string& data_dir);
  void housekeeping();
  void watch_memory();

  stores stores_;
  deadline_scheduler timers_;
  roost::broker broker_;
  server amqp_;
  admin::admin_context admin_;
  admin::http_server http_;
  heap_releaser heap_;
  boost::asio::steady_timer housekeeping_timer_;
  boost::asio::steady_timer memory_timer_;
  net::tls_server_credentials* tls_ = nullptr;  // from listen(); null without a certificate
  bool https_ = false;                          // an HTTPS listener too
  bool stopped_ = false;
  bool finished_ = false;
};

}  // namespace roost::app
