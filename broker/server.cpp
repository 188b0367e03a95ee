#include "broker/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "broker/log.hpp"
#include "broker/tcp_session.hpp"

namespace roost {

namespace asio = boost::asio;
using asio::ip::tcp;

server::server(asio::io_context& io, broker& b) : io_(io), broker_(b), acceptor_(io) {}

std::uint16_t server::listen(const std::string& address, std::uint16_t port) {
  tcp::endpoint endpoint(asio::ip::make_address(address), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return acceptor_.local_endpoint().port();
}

asio::awaitable<void> server::accept_loop() {
  boost::system::error_code ec;
  while (acceptor_.is_open()) {
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of file descriptors and the like: log and keep serving the others.
      log::warning("accept failed: " + ec.message());
      continue;
    }
    std::make_shared<tcp_session>(broker_, std::move(socket))->start();
  }
}

void server::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  std::vector<connection*> open;
  for (auto& [id, c] : broker_.connections()) open.push_back(c);
  for (connection* c : open)
    c->close(amqp::connection_reply::connection_forced, "broker forced connection closure with reason 'shutdown'");
}

}  // namespace roost
