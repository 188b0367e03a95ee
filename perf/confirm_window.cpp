// Settling publisher confirms; see confirm_window.hpp.
#include "perf/confirm_window.hpp"

#include <bit>

namespace roost::perf {

confirm_window::confirm_window(std::uint32_t window)
    : window_(window), settled_(std::bit_ceil<std::uint64_t>(window > 0 ? window : 1)), mask_(settled_.size() - 1) {}

void confirm_window::mark(std::uint64_t tag, bool ack) {
  std::uint8_t& slot = settled_[tag & mask_];
  if (slot) return;
  slot = 1;
  ++(ack ? acked_ : nacked_);
}

void confirm_window::settle(std::uint64_t tag, bool multiple, bool ack) {
  if (tag < oldest_ || tag >= next_) return;
  if (multiple) {
    for (std::uint64_t t = oldest_; t <= tag; ++t) mark(t, ack);
  } else {
    mark(tag, ack);
  }
  // Pass over the settled prefix, clearing slots for the tags that reuse them.
  while (oldest_ < next_ && settled_[oldest_ & mask_]) settled_[oldest_++ & mask_] = 0;
}

}  // namespace roost::perf
