// Publisher confirms for one channel: remembers each publish's outcome and
// emits basic.ack / basic.nack strictly in publish order, coalescing runs of
// acks into one ack with multiple=true.
//
// Outcomes may arrive out of order (a transient message is confirmed at once,
// a persistent one after its commit); a confirm never overtakes an earlier,
// still pending publish, so a client never sees tag N acked while N-1 is open.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace roost {

class confirm_tracker {
 public:
  enum class outcome : std::uint8_t { pending, ack, nack };

  // Registers the next publish; returns its sequence number (1, 2, ...).
  std::uint64_t next();
  void complete(std::uint64_t seq, outcome result);
  // Appends the confirms that are now due as frames on the given channel.
  void flush(std::string& out, std::uint16_t channel);
  std::size_t outstanding() const { return window_.size(); }

 private:
  std::uint64_t first_seq_ = 1;  // sequence number of window_.front()
  std::deque<outcome> window_;
};

}  // namespace roost
