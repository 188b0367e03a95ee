// The admin HTTP listener: accepts connections on the broker's io_context
// and runs each as a coroutine (read request, handle_request, write
// response, keep-alive), like tcp_session does for AMQP. Also samples the
// message rates once a second.
//
// A slow or hostile client cannot stall the broker: every read and write
// has a deadline, headers and bodies have size limits (413 for a body over
// the limit), and the number of open HTTP connections is capped. Beast
// stays inside http_server.cpp; this header only needs Asio.
// Lives on the broker thread.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "admin-ui/api_call.hpp"

namespace roost::admin {

inline constexpr std::size_t max_request_body = 16 * 1024 * 1024;
inline constexpr std::size_t max_request_header = 16 * 1024;
inline constexpr std::size_t max_http_sessions = 256;

class http_server {
 public:
  http_server(boost::asio::io_context& io, admin_context& ctx);
  ~http_server();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  // Throws boost::system::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& address, std::uint16_t port);
  // Closes the listener and every open HTTP connection.
  void stop();

  struct sessions;  // the open connections, shared with their coroutines

 private:
  // Starts a session for an accepted socket, or closes it when too many are open.
  void start_session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> sample_loop();

  boost::asio::io_context& io_;
  admin_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sample_timer_;
  std::shared_ptr<sessions> sessions_;
};

}  // namespace roost::admin
