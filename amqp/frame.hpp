// AMQP frames: the 7-byte header, the 0xCE end octet, and helpers that append
// whole frames to an outbound buffer.
//
// Building frames straight into the connection's write buffer means a burst
// of deliveries costs one buffer and one socket write, not one per frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "amqp/method_codec.hpp"

namespace roost::amqp {

enum class frame_type : std::uint8_t { method = 1, header = 2, body = 3, heartbeat = 8 };

inline constexpr std::uint8_t frame_end = 0xCE;
inline constexpr std::size_t frame_header_size = 7;  // type, channel, payload size
inline constexpr std::size_t frame_overhead = frame_header_size + 1;
inline constexpr std::string_view protocol_header{"AMQP\x00\x00\x09\x01", 8};
// The smallest frame_max a peer may negotiate (spec 4.2.3).
inline constexpr std::uint32_t frame_min_size = 4096;

struct frame_header {
  std::uint8_t type = 0;
  std::uint16_t channel = 0;
  std::uint32_t size = 0;
};

inline frame_header parse_frame_header(const std::uint8_t* p) {
  return frame_header{p[0], static_cast<std::uint16_t>(p[1] << 8 | p[2]),
                      std::uint32_t{p[3]} << 24 | std::uint32_t{p[4]} << 16 | std::uint32_t{p[5]} << 8 | p[6]};
}

// Starts a frame; returns where its size field sits, for end_frame.
inline std::size_t begin_frame(std::string& out, frame_type type, std::uint16_t channel) {
  wire_writer w(out);
  w.u8(static_cast<std::uint8_t>(type));
  w.u16(channel);
  return w.reserve_u32();
}

inline void end_frame(std::string& out, std::size_t size_at) {
  wire_writer w(out);
  w.patch_u32(size_at, static_cast<std::uint32_t>(out.size() - size_at - 4));
  w.u8(frame_end);
}

template <class M>
void append_method_frame(std::string& out, std::uint16_t channel, const M& m) {
  std::size_t start = out.size();
  try {
    std::size_t at = begin_frame(out, frame_type::method, channel);
    wire_writer w(out);
    encode_method(w, m);
    end_frame(out, at);
  } catch (...) {
    out.resize(start);  // never leave half a frame in the buffer
    throw;
  }
}

// raw_properties is the property flags and list exactly as a publisher sent
// them, so deliveries forward headers byte for byte without re-encoding.
void append_content_header(std::string& out, std::uint16_t channel, std::uint64_t body_size,
                           std::string_view raw_properties);
// Splits body into frames of at most frame_max bytes each (frame_max counts
// the 8 bytes of frame overhead, as the spec says). An empty body sends no
// frame. frame_max must exceed the overhead (negotiation guarantees >= 4096).
void append_body_frames(std::string& out, std::uint16_t channel, std::string_view body, std::uint32_t frame_max);
void append_heartbeat(std::string& out);

}  // namespace roost::amqp
