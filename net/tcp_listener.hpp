// Listening TCP sockets, shared by the AMQP and the HTTP listeners: bind and
// listen, and what the broker needs to know about a peer. The accept loop
// (accept_loop.hpp) is shared with the control socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace roost::net {

// Opens, binds and listens; returns the bound port (useful with port 0).
// Throws boost::system::system_error when the address cannot be bound.
std::uint16_t open_listener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, std::uint16_t port);

// Who a client is: the socket's remote end, or, for a connection a cluster
// follower forwarded to its leader, the client's own end as the follower
// saw it (so that the loopback rule, logs and /api/connections name the
// client, not the follower).
struct peer_identity {
  std::string address;  // empty when the socket could not say
  std::uint16_t port = 0;
  bool loopback = false;  // also as an IPv4-mapped IPv6 address (guest may only log in from there)

  // "address:port", for logs and the connection's name.
  std::string describe() const;
};

peer_identity peer_of(const boost::asio::ip::tcp::socket& s);
// The peer at a client address a follower reported; not loopback when the
// text is not an address.
peer_identity peer_at(const std::string& address, std::uint16_t port);

// peer_of(s).describe(), for logs.
std::string describe_peer(const boost::asio::ip::tcp::socket& s);

// Where to connect to reach host:port: host as an address, or else as a
// host name resolved now, synchronously (a cluster leader's advertised
// name: rare, and local). None when the name does not resolve.
std::optional<boost::asio::ip::tcp::endpoint> endpoint_for(boost::asio::io_context& io, const std::string& host,
                                                          std::uint16_t port);

}  // namespace roost::net
