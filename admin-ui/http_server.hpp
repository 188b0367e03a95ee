// The admin HTTP listener: accepts connections on the broker's io_context
// and runs each as a coroutine (read request, handle_request, write
// response, keep-alive), like stream_session does for AMQP. Also samples the
// message rates once a second.
//
// The same sessions serve the control socket (DATA_DIR/roost.ctl, for
// roostctl): HTTP/1.1 over a Unix domain socket, requests marked
// request_origin::control_socket so they need no Basic auth. HTTP rather
// than a framing of our own because everything a framing needs is already
// here and tested: request and body limits, deadlines, keep-alive, error
// answers, the route table; roostctl's requests are exactly the API calls
// an HTTP client would make, and `curl --unix-socket` works for free. The
// session is one template over the stream type, not a second copy; HTTPS
// (--https-port, the AMQPS certificate) is a third instance of it.
//
// A slow or hostile client cannot stall the broker: every read and write
// has a deadline (a few seconds for a request head until a connection has
// logged in), headers and bodies have size limits (413 for a body over
// the limit), and open connections are capped: on TCP by http_admission
// (per peer, and with room kept for logged-in connections), separately on
// the control socket, so a full HTTP port never locks the operator out.
// Beast stays inside http_server.cpp; this header only needs Asio.
// Lives on the broker thread.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "admin-ui/api_call.hpp"
#include "admin-ui/http_admission.hpp"

namespace roost::net {
class tls_server_credentials;
struct peer_identity;
}  // namespace roost::net

namespace roost::admin {

inline constexpr std::size_t max_request_body = 16 * 1024 * 1024;
inline constexpr std::size_t max_request_header = 16 * 1024;
inline constexpr std::size_t max_control_sessions = 16;

class http_server {
 public:
  http_server(boost::asio::io_context& io, admin_context& ctx);
  ~http_server();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  // Throws boost::system::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& address, std::uint16_t port);
  // The same API over TLS; each connection gets the credentials' context
  // of the moment it is accepted. The credentials must outlive the server.
  std::uint16_t listen_tls(const std::string& address, std::uint16_t port, net::tls_server_credentials& credentials);
  // Serves the same API on the control socket at path (see
  // net/local_socket.hpp: mode 0600, a stale socket file replaced).
  // Throws boost::system::system_error when it cannot be created.
  void listen_control(const std::string& path);
  // Closes the listeners and every open connection, and removes the
  // control socket's file.
  void stop();
  // A connection a cluster follower forwarded (app/cluster_member), served
  // as if accepted here from the client at `peer`; HTTPS when tls is given
  // (the TLS handshake runs here, the follower only passes bytes).
  void adopt(boost::asio::ip::tcp::socket socket, const net::peer_identity& peer, net::tls_server_credentials* tls);

  struct sessions;  // the open connections, shared with their coroutines

 private:
  // An accepted control socket connection: served, or closed when too many are open.
  void admit_control(boost::asio::local::stream_protocol::socket socket);
  template <class Stream>
  void start_session(Stream stream, http_admission::session_id id, request_origin origin, bool loopback);
  boost::asio::awaitable<void> sample_loop();

  boost::asio::io_context& io_;
  admin_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::acceptor tls_acceptor_;
  boost::asio::local::stream_protocol::acceptor control_acceptor_;
  std::string control_path_;  // empty when there is no control socket (or it is removed)
  boost::asio::steady_timer sample_timer_;
  std::shared_ptr<sessions> sessions_;
};

}  // namespace roost::admin
