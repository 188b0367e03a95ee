// Content and heartbeat frames; method frames are templated in frame.hpp.
#include "amqp/frame.hpp"

#include <algorithm>
#include <stdexcept>

namespace roost::amqp {

namespace {
constexpr std::uint16_t basic_class_id = 60;
}

void append_content_header(std::string& out, std::uint16_t channel, std::uint64_t body_size,
                           std::string_view raw_properties) {
  std::size_t at = begin_frame(out, frame_type::header, channel);
  wire_writer w(out);
  w.u16(basic_class_id);
  w.u16(0);  // weight, always 0
  w.u64(body_size);
  w.raw(raw_properties);
  end_frame(out, at);
}

void append_body_frames(std::string& out, std::uint16_t channel, std::string_view body, std::uint32_t frame_max) {
  if (frame_max <= frame_overhead) throw std::invalid_argument("frame_max too small for a body frame");
  const std::size_t chunk = frame_max - frame_overhead;
  while (!body.empty()) {
    std::size_t n = std::min(chunk, body.size());
    std::size_t at = begin_frame(out, frame_type::body, channel);
    out.append(body.data(), n);
    end_frame(out, at);
    body.remove_prefix(n);
  }
}

void append_heartbeat(std::string& out) {
  std::size_t at = begin_frame(out, frame_type::heartbeat, 0);
  end_frame(out, at);
}

}  // namespace roost::amqp
