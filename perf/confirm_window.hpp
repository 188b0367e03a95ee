// A producer's view of its unconfirmed publishes, for --confirm WINDOW.
//
// Publish sequence numbers are 1, 2, 3, ... on the channel. Brokers usually
// confirm in order and with multiple=true, but may ack single tags out of
// order, so "confirmed" must count each tag exactly once. A ring of settled
// flags the size of the window does that in O(1) amortised per message
// without allocating, and the window is simply next - oldest unsettled.
#pragma once

#include <cstdint>
#include <vector>

namespace roost::perf {

class confirm_window {
 public:
  explicit confirm_window(std::uint32_t window);

  // How many more publishes the window allows right now.
  std::uint64_t room() const { return window_ - (next_ - oldest_); }
  std::uint64_t unsettled() const { return next_ - oldest_; }
  void published(std::uint64_t n) { next_ += n; }
  // basic.ack / basic.nack from the broker. Unknown or repeated tags are ignored.
  void settle(std::uint64_t tag, bool multiple, bool ack);

  std::uint64_t acked() const { return acked_; }
  std::uint64_t nacked() const { return nacked_; }

 private:
  void mark(std::uint64_t tag, bool ack);

  std::uint64_t window_;
  std::vector<std::uint8_t> settled_;  // ring indexed by tag & mask_; 1 = settled, not yet passed
  std::uint64_t mask_;
  std::uint64_t oldest_ = 1;  // oldest unsettled tag
  std::uint64_t next_ = 1;    // tag the next publish gets
  std::uint64_t acked_ = 0;
  std::uint64_t nacked_ = 0;
};

}  // namespace roost::perf
