// Listening sockets: see tcp_listener.hpp.
#include "net/tcp_listener.hpp"

#include "net/loopback_tcp.hpp"

namespace roost::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

bool loopback_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

}  // namespace

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

std::string peer_identity::describe() const {
  if (address.empty()) return "unknown peer";
  return address + ":" + std::to_string(port);
}

peer_identity peer_of(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return {};
  return {ep.address().to_string(), ep.port(), loopback_address(ep.address())};
}

peer_identity peer_at(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  auto parsed = asio::ip::make_address(address, ec);
  return {address, port, !ec && loopback_address(parsed)};
}

std::string describe_peer(const tcp::socket& s) { return peer_of(s).describe(); }

std::optional<tcp::endpoint> endpoint_for(asio::io_context& io, const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(io);
  auto found = resolver.resolve(host, std::to_string(port), ec);
  if (ec || found.empty()) return std::nullopt;
  return found.begin()->endpoint();
}

}  // namespace roost::net
