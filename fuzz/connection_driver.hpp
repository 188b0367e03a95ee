// A socket-free connection fed the way tcp_session feeds it, for the
// targets that drive the AMQP state machine (frame_reader, connection).
//
// Bytes arrive in slices of varying size (a frame split across reads, many
// frames in one read); what the connection does not consume waits for the
// next slice, as in the session's input buffer. After every slice the
// output is taken out and checked: whatever the client sent, the broker
// only ever writes whole frames no larger than the frame_max it negotiated.
// One broker per driver, so every input starts from the same state.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amqp/frame.hpp"
#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"
#include "fuzz/check.hpp"
#include "tests/unit/protocol_test_support.hpp"

namespace roost::fuzz {

class connection_driver {
 public:
  // Connection open/close lines at info would drown libFuzzer's output.
  connection_driver() { log::set_level(log::level::error); }
  ~connection_driver() { connection_.transport_closed("fuzz input ended"); }

  // The client's half of a guest login on "/" (header, start-ok, tune-ok, open).
  void log_in() {
    for (const std::string& piece : test::guest_login(true)) feed(piece);
    require(connection_.current_state() == connection::state::open, "the scripted login opens the connection");
  }

  void feed(std::string_view bytes) {
    // Slice sizes cycle through these: single bytes, a frame header's worth,
    // typical small frames, and the session's 8 KiB fair-share slice.
    static constexpr std::array<std::size_t, 6> slices{1, 7, 13, 64, 1500, 8192};
    while (!bytes.empty()) {
      std::size_t n = std::min(bytes.size(), slices[next_slice_++ % slices.size()]);
      pending_.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      std::size_t used = connection_.consume(pending_);
      require(used <= pending_.size(), "consume uses at most what it was given");
      pending_.erase(0, used);
      check_output();
      if (connection_.current_state() == connection::state::closed) return;
    }
  }

 private:
  void check_output() {
    std::string out = connection_.outbound().flatten();
    connection_.outbound().clear();
    connection_.output_drained();
    std::string_view rest(out);
    // A wrong protocol header is answered with ours, the only bytes that are no frame.
    if (rest.starts_with(amqp::protocol_header)) rest.remove_prefix(amqp::protocol_header.size());
    while (!rest.empty()) {
      require(rest.size() >= amqp::frame_overhead, "output holds whole frames only");
      auto h = amqp::parse_frame_header(reinterpret_cast<const std::uint8_t*>(rest.data()));
      require(rest.size() >= h.size + amqp::frame_overhead, "an output frame is complete");
      require(static_cast<std::uint8_t>(rest[amqp::frame_header_size + h.size]) == amqp::frame_end,
              "an output frame ends with 0xCE");
      require(h.size + amqp::frame_overhead <= connection_.frame_max(), "an output frame fits frame_max");
      rest.remove_prefix(h.size + amqp::frame_overhead);
    }
  }

  broker broker_{config{}};
  test::recorded_events events_;
  connection connection_{broker_, events_, "127.0.0.1:5672", true};
  std::string pending_;
  std::size_t next_slice_ = 0;
};

}  // namespace roost::fuzz
