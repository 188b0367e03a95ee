#include "broker/protocol/confirm_tracker.hpp"

#include "amqp/frame.hpp"

namespace roost {

std::uint64_t confirm_tracker::next() {
  window_.push_back(outcome::pending);
  return first_seq_ + window_.size() - 1;
}

void confirm_tracker::complete(std::uint64_t seq, outcome result) {
  if (seq < first_seq_ || seq - first_seq_ >= window_.size()) return;
  window_[seq - first_seq_] = result;
}

void confirm_tracker::flush(std::string& out, std::uint16_t channel) {
  std::uint64_t acked_run_end = 0;
  std::size_t run_length = 0;
  auto emit_acks = [&] {
    if (run_length > 0) amqp::append_method_frame(out, channel, amqp::basic_ack{acked_run_end, run_length > 1});
    run_length = 0;
  };
  while (!window_.empty() && window_.front() != outcome::pending) {
    if (window_.front() == outcome::ack) {
      acked_run_end = first_seq_;
      ++run_length;
    } else {
      emit_acks();
      amqp::append_method_frame(out, channel, amqp::basic_nack{first_seq_, false, false});
    }
    window_.pop_front();
    ++first_seq_;
  }
  emit_acks();
}

}  // namespace roost
