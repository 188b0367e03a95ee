// One AMQP 0-9-1 client connection with channel 1 open, for roost-perf.
//
// A non-blocking TCP socket (with TLS over it for amqps://, tls_link.hpp)
// plus two buffers. Outbound frames are
// appended to out() by the caller (many per batch, built with the codec in
// amqp/) and leave with one send(); inbound bytes arrive in large
// recv() chunks and dispatch() walks every complete frame in place, without
// copying or allocating. Setup steps (handshake, declares, consume) use
// call(), which sends one method and waits, bounded, for its reply.
//
// Anything the broker does to end the session (connection.close,
// channel.close, EOF, a socket error, a malformed frame) throws
// broker_error, so workers have a single failure path.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "amqp/frame.hpp"
#include "amqp/method_codec.hpp"
#include "perf/options.hpp"
#include "perf/tls_link.hpp"

namespace roost::perf {

class broker_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A complete frame inside the read buffer; valid until the next receive().
struct frame_view {
  std::uint8_t type = 0;
  std::uint16_t channel = 0;
  const std::uint8_t* payload = nullptr;
  std::uint32_t size = 0;

  bool is_method() const { return type == static_cast<std::uint8_t>(amqp::frame_type::method) && size >= 4; }
  std::uint32_t method_key() const {
    return std::uint32_t{payload[0]} << 24 | std::uint32_t{payload[1]} << 16 | std::uint32_t{payload[2]} << 8 |
           payload[3];
  }
  // The method's arguments, after class and method id.
  amqp::wire_reader arguments() const { return amqp::wire_reader(payload + 4, size - 4); }
};

class client_connection {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::uint16_t channel = 1;  // the one channel every connection opens
  // Bound on each setup step (connect, handshake, declare, consume, close).
  static constexpr std::chrono::seconds setup_timeout{30};

  // Connects, authenticates (PLAIN), tunes and opens channel 1; throws
  // broker_error on refusal. read_buffer is the initial receive chunk size;
  // it grows if a frame does not fit.
  client_connection(const amqp_uri& uri, std::size_t read_buffer);
  ~client_connection();
  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;

  std::uint32_t frame_max() const { return frame_max_; }

  // Queues a method frame (channel 0 for the connection class, else channel 1).
  template <class M>
  void send(const M& m) {
    amqp::append_method_frame(out_, M::id.class_id == 10 ? 0 : channel, m);
  }
  // Sends m and waits (bounded) for the Reply method; frames before it are ignored.
  template <class Reply, class M>
  Reply call(const M& m) {
    send(m);
    flush_all();
    return await<Reply>();
  }
  template <class Reply>
  Reply await(std::chrono::nanoseconds timeout = setup_timeout);

  // Outbound batch; append whole frames, then flush().
  std::string& out() { return out_; }
  bool has_output() const { return !out_.empty(); }
  // Writes what the socket takes without blocking; true once out() is empty.
  bool flush();
  // Waits at most `timeout` for the socket to become readable and/or
  // writable; returns whether it is readable (or closed).
  bool wait(bool want_read, bool want_write, std::chrono::nanoseconds timeout);
  // One non-blocking recv() into the read buffer; returns bytes read (0: nothing yet).
  std::size_t receive();
  // The last receive() got less than it asked for: the socket was empty, so
  // the next read should wait() first instead of making a syscall for nothing.
  bool input_drained() const { return input_drained_; }
  // Hands each complete buffered frame to on_frame(const frame_view&), which
  // returns false to stop (the rest stays buffered). Connection-level frames
  // are handled here. Returns false if on_frame stopped early.
  template <class F>
  bool dispatch(F&& on_frame);

  // connection.close, then wait at most `timeout` for close-ok. Errors are
  // swallowed (the run's outcome is decided by then); returns whether
  // close-ok came. Only close-ok proves the broker has read every frame
  // sent before it: closing the socket earlier can lose the tail of a
  // publisher's stream still queued in the kernel.
  bool close(std::chrono::nanoseconds timeout = std::chrono::seconds(5)) noexcept;

 private:
  void connect_socket(const amqp_uri& uri);
  void handshake(const amqp_uri& uri);
  void flush_all(std::chrono::nanoseconds timeout = setup_timeout);
  [[noreturn]] void fail_closed(const frame_view& f);
  // Consumes heartbeats, connection.blocked/unblocked; throws on close.
  bool handle_control(const frame_view& f);
  void make_room();
  std::size_t receive_tls();

  int fd_ = -1;
  std::unique_ptr<tls_link> tls_;  // amqps:// only
  std::string out_;
  std::size_t out_sent_ = 0;  // bytes of out_ already written
  std::unique_ptr<std::uint8_t[]> in_;
  std::size_t in_cap_ = 0, in_begin_ = 0, in_end_ = 0;
  bool input_drained_ = false;
  bool blocked_reported_ = false;
  std::uint32_t frame_max_ = amqp::frame_min_size;
};

template <class F>
bool client_connection::dispatch(F&& on_frame) {
  while (in_end_ - in_begin_ >= amqp::frame_header_size) {
    const std::uint8_t* p = in_.get() + in_begin_;
    amqp::frame_header h = amqp::parse_frame_header(p);
    std::size_t total = std::size_t{h.size} + amqp::frame_overhead;
    if (in_end_ - in_begin_ < total) break;
    if (p[total - 1] != amqp::frame_end) throw broker_error("malformed frame from broker (bad frame-end octet)");
    in_begin_ += total;
    frame_view f{h.type, h.channel, p + amqp::frame_header_size, h.size};
    if (handle_control(f)) continue;
    if (!on_frame(f)) return false;
  }
  return true;
}

template <class Reply>
Reply client_connection::await(std::chrono::nanoseconds timeout) {
  const std::uint16_t want_channel = Reply::id.class_id == 10 ? 0 : channel;
  Reply reply;
  auto match = [&](const frame_view& f) {
    if (!f.is_method() || f.channel != want_channel || f.method_key() != Reply::id.key()) return true;
    amqp::wire_reader in = f.arguments();
    reply = amqp::decode_arguments<Reply>(in);
    return false;
  };
  const auto deadline = clock::now() + timeout;
  while (dispatch(match)) {
    auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) throw broker_error("timed out waiting for " + std::string(Reply::name));
    wait(true, false, left);
    receive();
  }
  return reply;
}

}  // namespace roost::perf
