#include "broker/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "broker/log.hpp"
#include "broker/tcp_listener.hpp"
#include "broker/tcp_session.hpp"

namespace roost {

namespace asio = boost::asio;
using asio::ip::tcp;

server::server(asio::io_context& io, broker& b) : io_(io), broker_(b), acceptor_(io) {}

std::uint16_t server::listen(const std::string& address, std::uint16_t port) {
  std::uint16_t bound = open_listener(acceptor_, address, port);
  asio::co_spawn(io_,
                 accept_each(acceptor_, "amqp",
                             [this](tcp::socket socket) {
                               std::make_shared<tcp_session>(broker_, std::move(socket))->start();
                             }),
                 asio::detached);
  return bound;
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
