#include "broker/transport/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <functional>
#include <vector>

#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/transport/stream_session.hpp"
#include "net/accept_loop.hpp"
#include "net/tcp_listener.hpp"
#include "net/tls_server_context.hpp"

namespace roost {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Binds `acceptor` and hands each accepted socket to start; `scheme` names the listener in logs.
std::uint16_t accept_sessions(asio::io_context& io, tcp::acceptor& acceptor, const std::string& address,
                              std::uint16_t port, std::string scheme, std::function<void(tcp::socket)> start) {
  std::uint16_t bound = net::open_listener(acceptor, address, port);
  auto on_error = [scheme](const boost::system::error_code& ec) {
    log::warning(scheme + " accept failed: " + ec.message());
  };
  asio::co_spawn(io, net::accept_each(acceptor, std::move(start), on_error), asio::detached);
  return bound;
}

}  // namespace

server::server(asio::io_context& io, broker& b) : io_(io), broker_(b), acceptor_(io), tls_acceptor_(io) {}

std::uint16_t server::listen(const std::string& address, std::uint16_t port) {
  return accept_sessions(io_, acceptor_, address, port, "amqp", [this](tcp::socket socket) {
    std::make_shared<stream_session<tcp::socket>>(broker_, std::move(socket))->start();
  });
}

std::uint16_t server::listen_tls(const std::string& address, std::uint16_t port,
                                 net::tls_server_credentials& credentials) {
  return accept_sessions(io_, tls_acceptor_, address, port, "amqps", [this, &credentials](tcp::socket socket) {
    tls_stream stream(std::move(socket), credentials.current());
    std::make_shared<stream_session<tls_stream>>(broker_, std::move(stream))->start();
  });
}

void server::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  tls_acceptor_.close(ec);
  std::vector<connection*> open;
  for (auto& [id, c] : broker_.connections()) open.push_back(c);
  for (connection* c : open)
    c->close(amqp::connection_reply::connection_forced, "broker forced connection closure with reason 'shutdown'");
}

}  // namespace roost
