// The socket side of a client connection: a reader coroutine feeding bytes
// to the protocol object, one writer coroutine that alone writes to the
// socket (draining everything queued in one gathered write), and a watchdog
// for the handshake deadline, heartbeats and the close timeout.
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

#include "broker/protocol/connection.hpp"

namespace roost {

class broker;

class tcp_session final : public std::enable_shared_from_this<tcp_session>, private connection_events {
 public:
  tcp_session(broker& b, boost::asio::ip::tcp::socket socket);
  ~tcp_session() override;

  void start();
  connection& protocol() { return *connection_; }

 private:
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

  boost::asio::ip::tcp::socket socket_;
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
