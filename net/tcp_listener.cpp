// Listening sockets: see tcp_listener.hpp.
#include "net/tcp_listener.hpp"

#include "net/loopback_tcp.hpp"

namespace roost::net {

namespace asio = boost::asio;
using asio::ip::tcp;

std::uint16_t open_listener(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port) {
  tcp::endpoint endpoint(asio::ip::make_address(address), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  // Accepted sockets inherit it from the start; see loopback_tcp.hpp.
  if (endpoint.address().is_loopback()) use_unpaced_congestion_control(acceptor.native_handle());
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor.local_endpoint().port();
}

bool is_loopback(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return false;
  auto address = ep.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

std::string describe_peer(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace roost::net
