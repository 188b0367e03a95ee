#include "broker/transport/outbound_buffer.hpp"

#include <algorithm>
#include <stdexcept>

#include "amqp/frame.hpp"

namespace roost {

namespace {
// Below this a body is copied: a memcpy of a few KiB costs less than an
// extra iovec, a reference count and a vector entry.
constexpr std::size_t reference_threshold = 8 * 1024;
}  // namespace

void outbound_buffer::append_body_frames(std::uint16_t channel, const message_ref& msg, std::uint32_t frame_max) {
  std::string_view body = msg->body;
  if (body.size() < reference_threshold) {
    amqp::append_body_frames(bytes_, channel, body, frame_max);
    return;
  }
  if (frame_max <= amqp::frame_overhead) throw std::invalid_argument("frame_max too small for a body frame");
  const std::size_t chunk = frame_max - amqp::frame_overhead;
  holds_.push_back(msg);
  while (!body.empty()) {
    std::size_t n = std::min(chunk, body.size());
    std::size_t at = amqp::begin_frame(bytes_, amqp::frame_type::body, channel);
    // The size field counts the referenced payload, which sits between here and the frame end.
    amqp::wire_writer(bytes_).patch_u32(at, static_cast<std::uint32_t>(n));
    slices_.push_back(slice{bytes_.size(), body.substr(0, n)});
    bytes_.push_back(static_cast<char>(amqp::frame_end));
    referenced_ += n;
    body.remove_prefix(n);
  }
}

std::string outbound_buffer::flatten() const {
  std::string flat;
  flat.reserve(size());
  for_each_piece([&](std::string_view piece) { flat.append(piece); });
  return flat;
}

void outbound_buffer::clear() {
  bytes_.clear();
  slices_.clear();
  holds_.clear();
  referenced_ = 0;
}

void outbound_buffer::swap(outbound_buffer& other) noexcept {
  bytes_.swap(other.bytes_);
  slices_.swap(other.slices_);
  holds_.swap(other.holds_);
  std::swap(referenced_, other.referenced_);
}

void outbound_buffer::release_memory() {
  clear();
  std::string().swap(bytes_);
  std::vector<slice>().swap(slices_);
  std::vector<message_ref>().swap(holds_);
}

}  // namespace roost
