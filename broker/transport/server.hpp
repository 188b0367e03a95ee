// The AMQP listener and the broker's orderly shutdown.
//
// Accepts connections and starts a tcp_session for each, or closes them at
// once while --max-connections are open. stop() closes the
// listener and sends connection.close 320 CONNECTION_FORCED to every client;
// the caller then runs the io_context until every session has ended or the
// grace period is over. Lives on the broker thread.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "broker/common/refusal_log.hpp"

namespace roost {

class broker;

class server {
 public:
  server(boost::asio::io_context& io, broker& b);

  // Binds and starts accepting; returns the bound port (useful with port 0).
  // Throws boost::system::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& address, std::uint16_t port);
  void stop();

 private:
  bool at_connection_limit() const;
  void refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  broker& broker_;
  boost::asio::ip::tcp::acceptor acceptor_;
  refusal_log refusals_;
};

}  // namespace roost
