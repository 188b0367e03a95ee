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

server::server(asio::io_context& io, broker& b) : io_(io), broker_(b), acceptor_(io), tls_acceptor_(io) {}

std::uint16_t server::listen(const std::string& address, std::uint16_t port) {
  return accept_sessions(acceptor_, address, port, nullptr);
}

std::uint16_t server::listen_tls(const std::string& address, std::uint16_t port,
                                 net::tls_server_credentials& credentials) {
  return accept_sessions(tls_acceptor_, address, port, &credentials);
}

std::uint16_t server::accept_sessions(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port,
                                      net::tls_server_credentials* tls) {
  std::uint16_t bound = net::open_listener(acceptor, address, port);
  auto on_accept = [this, tls](tcp::socket socket) {
    net::peer_identity peer = net::peer_of(socket);
    adopt(std::move(socket), peer, tls);
  };
  auto on_error = [this, scheme = std::string(tls ? "amqps" : "amqp")](const boost::system::error_code& ec) {
    refusals_.refused(scheme + " accept failed: " + ec.message());
  };
  asio::co_spawn(io_, net::accept_each(acceptor, std::move(on_accept), on_error), asio::detached);
  return bound;
}

void server::adopt(tcp::socket socket, const net::peer_identity& peer, net::tls_server_credentials* tls) {
  if (at_connection_limit()) {
    refuse(std::move(socket), peer, tls ? "amqps" : "amqp");
    return;
  }
  if (tls) {
    tls_stream stream(std::move(socket), tls->current());
    std::make_shared<stream_session<tls_stream>>(broker_, std::move(stream), peer)->start();
  } else {
    std::make_shared<stream_session<tcp::socket>>(broker_, std::move(socket), peer)->start();
  }
}

bool server::at_connection_limit() const {
  std::size_t limit = broker_.cfg().max_connections;
  return limit != 0 && broker_.connections().size() >= limit;
}

// Closed before a byte is read or a session allocated: a flood of attempts
// costs an accept and a close each.
void server::refuse(tcp::socket socket, const net::peer_identity& peer, const std::string& scheme) {
  boost::system::error_code ec;
  socket.close(ec);
  refusals_.refused(scheme + ": refusing connection from " + peer.describe() + ": " +
                    std::to_string(broker_.cfg().max_connections) + " connections open (--max-connections)");
}

void server::stop(const std::string& reason) {
  boost::system::error_code ec;
  acceptor_.close(ec);
  tls_acceptor_.close(ec);
  std::vector<connection*> open;
  for (auto& [id, c] : broker_.connections()) open.push_back(c);
  for (connection* c : open)
    c->close(amqp::connection_reply::connection_forced, "broker forced connection closure with reason '" + reason + "'");
}

}  // namespace roost
