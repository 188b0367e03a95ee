// Listening sockets, shared by the AMQP and the HTTP listeners: bind and
// listen, an accept loop that survives transient accept errors, and what the
// broker needs to know about a peer.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace roost::net {

// Opens, binds and listens; returns the bound port (useful with port 0).
// Throws boost::system::system_error when the address cannot be bound.
std::uint16_t open_listener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, std::uint16_t port);

// Hands every accepted socket to on_accept until the acceptor is closed.
// A failed accept (out of file descriptors and the like) goes to on_error
// (the caller logs it) and the loop keeps serving.
boost::asio::awaitable<void> accept_each(boost::asio::ip::tcp::acceptor& acceptor,
                                         std::function<void(boost::asio::ip::tcp::socket)> on_accept,
                                         std::function<void(const boost::system::error_code&)> on_error);

// Loopback, also as an IPv4-mapped IPv6 address (guest may only log in from there).
bool is_loopback(const boost::asio::ip::tcp::socket& s);
// "address:port", for logs.
std::string describe_peer(const boost::asio::ip::tcp::socket& s);

}  // namespace roost::net
