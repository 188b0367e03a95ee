// The AMQP listeners (plain, and AMQPS when a certificate is configured)
// and the broker's orderly shutdown.
//
// Accepts connections and starts a stream_session for each, or closes them
// at once while --max-connections are open. stop() closes the listeners and
// sends connection.close 320 CONNECTION_FORCED to every client; the caller
// then runs the io_context until every session has ended or the grace
// period is over. Lives on the broker thread.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "broker/common/refusal_log.hpp"

namespace roost {

namespace net {
class tls_server_credentials;
struct peer_identity;
}  // namespace net

class broker;

class server {
 public:
  server(boost::asio::io_context& io, broker& b);

  // Binds and starts accepting; returns the bound port (useful with port 0).
  // Throws boost::system::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& address, std::uint16_t port);
  // The same for AMQPS: each connection is accepted with the credentials'
  // context of that moment (a reload changes new connections only).
  // The credentials must outlive the server.
  std::uint16_t listen_tls(const std::string& address, std::uint16_t port, net::tls_server_credentials& credentials);
  // A client connection a cluster follower forwarded (app/cluster_member):
  // served as if accepted here, as the client at `peer`, under the same
  // connection limit. tls: the AMQPS credentials when the client came to
  // the follower's AMQPS port (the TLS handshake runs here, the follower
  // only passes bytes), else null.
  void adopt(boost::asio::ip::tcp::socket socket, const net::peer_identity& peer, net::tls_server_credentials* tls);
  // Closes the listeners and every client with 320 CONNECTION_FORCED
  // "broker forced connection closure with reason '<reason>'", as RabbitMQ says it.
  void stop(const std::string& reason = "shutdown");

 private:
  // Binds `acceptor` and adopts each accepted socket as its own peer.
  std::uint16_t accept_sessions(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                std::uint16_t port, net::tls_server_credentials* tls);
  bool at_connection_limit() const;
  void refuse(boost::asio::ip::tcp::socket socket, const net::peer_identity& peer, const std::string& scheme);

  boost::asio::io_context& io_;
  broker& broker_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::acceptor tls_acceptor_;
  refusal_log refusals_;
};

}  // namespace roost
