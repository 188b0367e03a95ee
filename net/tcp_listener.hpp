// Listening TCP sockets, shared by the AMQP and the HTTP listeners: bind and
// listen, and what the broker needs to know about a peer. The accept loop
// (accept_loop.hpp) is shared with the control socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace roost::net {

// Opens, binds and listens; returns the bound port (useful with port 0).
// Throws boost::system::system_error when the address cannot be bound.
std::uint16_t open_listener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, std::uint16_t port);

// Loopback, also as an IPv4-mapped IPv6 address (guest may only log in from there).
bool is_loopback(const boost::asio::ip::tcp::socket& s);
// "address:port", for logs.
std::string describe_peer(const boost::asio::ip::tcp::socket& s);

}  // namespace roost::net
