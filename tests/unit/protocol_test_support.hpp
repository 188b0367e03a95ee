// Helpers for driving a connection's protocol logic without a socket:
// events that record what the connection asked of its transport, frames
// built with the codec, and the outbound buffer decoded back into frames.
#pragma once

#include <string>
#include <vector>

#include "amqp/frame.hpp"
#include "broker/protocol/connection.hpp"

namespace roost::test {

struct recorded_events final : connection_events {
  bool closed = false;
  bool closing = false;
  int released = 0;  // input_released() calls (held input, flow control)
  void output_ready() override {}
  void close_after_flush() override { closed = true; }
  void closing_started() override { closing = true; }
  void input_released() override { ++released; }
  void abort() override {}
};

struct decoded_frame {
  amqp::frame_header header;
  std::string payload;
  std::uint32_t method_key() const {
    amqp::wire_reader in(payload);
    std::uint16_t c = in.u16();
    return amqp::method_key(c, in.u16());
  }
  template <class M>
  M method() const {
    amqp::wire_reader in(payload);
    in.u32();
    return amqp::decode_arguments<M>(in);
  }
};

// Takes every whole frame out of the connection's outbound buffer.
inline std::vector<decoded_frame> drain(connection& c) {
  std::vector<decoded_frame> frames;
  std::string out = c.outbound().flatten();
  std::size_t at = 0;
  while (out.size() - at >= amqp::frame_overhead) {
    auto h = amqp::parse_frame_header(reinterpret_cast<const std::uint8_t*>(out.data() + at));
    frames.push_back({h, out.substr(at + amqp::frame_header_size, h.size)});
    at += h.size + amqp::frame_overhead;
  }
  // Whatever follows the last whole frame stays for the next drain.
  std::string rest = out.substr(at);
  c.outbound().clear();
  c.outbound().bytes() = std::move(rest);
  return frames;
}

template <class M>
std::string method_frame(std::uint16_t channel, const M& m) {
  std::string out;
  amqp::append_method_frame(out, channel, m);
  return out;
}

// `n` transient publishes of "hello" to queue `q` through the default exchange, on channel 1.
inline std::string publishes(const std::string& q, int n) {
  std::string one = method_frame(1, amqp::basic_publish{0, "", q, false, false});
  amqp::append_content_header(one, 1, 5, std::string("\0\0", 2));
  amqp::append_body_frames(one, 1, "hello", 131072);
  std::string all;
  for (int i = 0; i < n; ++i) all += one;
  return all;
}

// A client's half of a guest login on vhost "/", to feed one piece at a
// time: the protocol header (if asked for), start-ok, tune-ok, open.
inline std::vector<std::string> guest_login(bool with_header) {
  std::vector<std::string> pieces;
  if (with_header) pieces.emplace_back(amqp::protocol_header);
  amqp::connection_start_ok start_ok;
  start_ok.mechanism = "PLAIN";
  start_ok.response.value = std::string("\0guest\0guest", 12);
  start_ok.locale = "en_US";
  pieces.push_back(method_frame(0, start_ok));
  pieces.push_back(method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}));
  pieces.push_back(method_frame(0, amqp::connection_open{"/", "", false}));
  return pieces;
}

}  // namespace roost::test
