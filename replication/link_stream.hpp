// The replication link's byte stream: TCP, or TLS over it when the cluster
// runs with --replication-tls. One type for both, so that the leader's and
// the follower's code read and write without caring which; Asio's
// composed reads and writes take it as any stream.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>
#include <utility>

namespace roost::replication {

class link_stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using tls_stream = boost::asio::ssl::stream<tcp::socket>;
  using executor_type = tcp::socket::executor_type;

  explicit link_stream(tcp::socket socket) : plain_(std::move(socket)) {}

  // From here on the bytes go through TLS with `context`; the handshake
  // (tls()->async_handshake) is the caller's to run first.
  void start_tls(boost::asio::ssl::context& context) {
    tls_.emplace(std::move(*plain_), context);
    plain_.reset();
  }
  tls_stream* tls() { return tls_ ? &*tls_ : nullptr; }
  // The TCP layer, TLS or not.
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  executor_type get_executor() { return socket().get_executor(); }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->async_read_some(buffers, std::forward<Handler>(handler));
    else plain_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->async_write_some(buffers, std::forward<Handler>(handler));
    else plain_->async_write_some(buffers, std::forward<Handler>(handler));
  }

  // Closes the TCP connection (no TLS close_notify: the link ends either
  // way, and the peer reads what it needs from the frames).
  void close() {
    boost::system::error_code ignored;
    socket().close(ignored);
  }

 private:
  std::optional<tcp::socket> plain_;
  std::optional<tls_stream> tls_;
};

}  // namespace roost::replication
