// Bytes waiting for a connection's socket, in order.
//
// Encoded frames are appended to one string. Large message bodies are not
// copied into it: the buffer keeps a reference to the message and a view of
// each body slice, and the writer hands the socket a gathered list of
// buffers (frame bytes, body slice, frame bytes, ...). A 64 KiB delivery thus
// costs one copy fewer, and the message stays alive until the write is done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/model/message.hpp"

namespace roost {

class outbound_buffer {
 public:
  // Frames are encoded straight into this string.
  std::string& bytes() { return bytes_; }

  // A body's frames: slices of at most frame_max - 8 bytes, each framed.
  // Small bodies are copied (cheaper than a buffer descriptor and a
  // reference count); large ones are referenced.
  void append_body_frames(std::uint16_t channel, const message_ref& msg, std::uint32_t frame_max);

  // Every byte, referenced or not; what back-pressure counts.
  std::size_t size() const { return bytes_.size() + referenced_; }
  bool empty() const { return size() == 0; }
  std::size_t capacity() const { return bytes_.capacity(); }

  // Calls f(std::string_view) for each contiguous piece, in order.
  template <class F>
  void for_each_piece(F&& f) const {
    std::size_t at = 0;
    for (const slice& s : slices_) {
      if (s.bytes_before > at) f(std::string_view(bytes_).substr(at, s.bytes_before - at));
      f(s.body);
      at = s.bytes_before;
    }
    if (bytes_.size() > at) f(std::string_view(bytes_).substr(at));
  }
  // All pieces in one string (tests, and anything that needs it flat).
  std::string flatten() const;

  // Drops everything; keeps the string's capacity.
  void clear();
  void swap(outbound_buffer& other) noexcept;
  // Gives the string's memory back.
  void release_memory();

 private:
  struct slice {
    std::size_t bytes_before;  // bytes_ written ahead of this slice
    std::string_view body;
  };
  std::string bytes_;
  std::vector<slice> slices_;
  std::vector<message_ref> holds_;  // keeps referenced bodies alive
  std::size_t referenced_ = 0;
};

}  // namespace roost
