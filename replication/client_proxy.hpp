// A follower's client ports: while a node follows, clients that connect to
// it are passed on to the leader, so that they may connect to any node.
//
//   client ─► follower's AMQP/AMQPS/HTTP/HTTPS port ─► leader's replication
//   port: challenge, forward{listener, client's address, proof}, then the
//   client's bytes both ways, untouched
//
// Untouched means TLS too: the leader runs the handshake with its own
// certificate, and the follower never sees a key or a plaintext byte. The
// leader serves the connection as if it had accepted it, as the client at
// the address the follower reported (the loopback rule, logs and
// /api/connections stay right). The replication port is the internal port
// only cluster members may use: a forward, like a hello, must prove the
// cluster secret.
//
// Each connection holds two sockets and one fixed buffer per direction,
// and a client cannot make the follower buffer more: a direction reads
// again only once its last read was written. The leader's limits
// (handshake deadline, --max-connections) apply to forwarded clients as to
// its own. A new leader: connections to the old one end with it (clients
// reconnect, as on any failover) and new ones go to the new one; no leader
// known: a client is closed at once, and retries.
//
// Runs on the io_context it is given.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace roost::replication {

struct client_proxy_options {
  std::string node_id;
  std::string secret;
  std::function<void(const std::string& text)> log;
};

class client_proxy {
 public:
  client_proxy(boost::asio::io_context& io, client_proxy_options options);
  // Closes the listeners and every connection passing through.
  ~client_proxy();

  // Binds address:port and passes each client on as `listener` ("amqp",
  // "amqps", "http" or "https"); returns the bound port. Throws
  // boost::system::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& listener, const std::string& address, std::uint16_t port);
  // Where new clients go: the leader's replication address (empty host:
  // nowhere yet).
  void set_leader(const std::string& host, std::uint16_t port);
  // Connections passing through now.
  std::size_t connections() const { return pipes_.size(); }

 private:
  struct pipe;

  void accept(boost::asio::ip::tcp::acceptor& acceptor, const std::string& listener);
  void pass_on(boost::asio::ip::tcp::socket client, const std::string& listener);
  void unreachable(const std::string& why);

  boost::asio::io_context& io_;
  client_proxy_options options_;
  std::map<std::string, std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;  // by listener
  std::string leader_host_;
  std::uint16_t leader_port_ = 0;
  std::string last_failure_;  // logged already
  std::map<std::uint64_t, std::shared_ptr<pipe>> pipes_;
  std::uint64_t next_pipe_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace roost::replication
