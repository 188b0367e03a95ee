// The socket side of a client connection: a reader coroutine feeding bytes
// to the protocol object, one writer coroutine that alone writes to the
// socket (draining everything queued in one gathered write), and a watchdog
// for the handshake deadline, heartbeats and the close timeout.
//
// Written once over the stream: stream_session<tcp::socket> serves plain
// AMQP, stream_session<tls_stream> AMQPS, which first runs the TLS
// handshake (under the same handshake deadline) and then the same loops,
// its reads and writes going through the TLS stream in the same batches.
// Both are instantiated in the .cpp; what differs is a few `if constexpr`
// there, so the plain session compiles to what it was before TLS existed.
//
// Owned by shared_ptr; each coroutine holds one, so the session lives until
// the last of them ends. Lives on the broker thread.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include "broker/protocol/connection.hpp"

namespace boost::asio::ssl {
template <class Stream>
class stream;
}  // namespace boost::asio::ssl

namespace roost::net {
struct peer_identity;
}  // namespace roost::net

namespace roost {

class broker;

using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

template <class Stream>
class stream_session final : public std::enable_shared_from_this<stream_session<Stream>>, private connection_events {
 public:
  // peer: who the client is (net::peer_of the socket, unless a cluster
  // follower forwarded the connection).
  stream_session(broker& b, Stream stream, const net::peer_identity& peer);
  ~stream_session() override;

  void start();
  connection& protocol() { return *connection_; }

 private:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  boost::asio::ip::tcp::socket& socket();  // the TCP layer under the stream
  // TLS: the handshake, then who the client certificate names. False when
  // it failed (the session is shut down). Plain: nothing to do.
  boost::asio::awaitable<bool> open_stream();
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog();
  void output_ready() override;
  void close_after_flush() override;
  void closing_started() override;
  void input_released() override { reader_wake_.cancel(); }
  void abort() override { shut_down("broker stopped"); }
  void shut_down(std::string_view reason);
  // Hands the complete frames among the first `filled` bytes of input_ to
  // the connection, fairly (see the .cpp); returns how many bytes remain.
  boost::asio::awaitable<std::size_t> process_input(std::size_t filled);

  Stream stream_;
  boost::asio::steady_timer writer_wake_;
  boost::asio::steady_timer reader_wake_;  // reader waits here while output is over the high-water mark
  boost::asio::steady_timer watchdog_timer_;
  std::unique_ptr<connection> connection_;
  outbound_buffer writing_;
  std::vector<boost::asio::const_buffer> gather_;  // writing_ as the socket sees it
  std::string input_;
  std::chrono::steady_clock::time_point last_read_;
  std::chrono::steady_clock::time_point last_write_;
  std::chrono::steady_clock::time_point close_requested_at_{};
  std::chrono::steady_clock::time_point lingering_since_{};  // set once our side is closed
  bool close_after_flush_ = false;
  bool writer_waiting_ = false;
  bool shut_down_ = false;
};

}  // namespace roost
