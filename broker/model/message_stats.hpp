// Counters of message events (publish, deliver, ack, ...) for the admin API
// and /metrics, kept per broker and per queue.
//
// Counting is one increment on the broker thread; turning counts into rates
// is left to the admin module, which calls sample() once a second. Lives on
// the broker thread with whatever owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace roost {

// RabbitMQ's message_stats names, in this order (see message_event_name).
enum class message_event : std::uint8_t {
  publish,
  deliver,
  deliver_no_ack,
  get,
  get_no_ack,
  ack,
  redeliver,
  confirm,
  return_unroutable,
  drop_unroutable,
};
inline constexpr std::size_t message_event_count = 10;

struct message_stats {
  std::array<std::uint64_t, message_event_count> totals{};
  // Events per second over the last sample interval.
  std::array<double, message_event_count> rates{};
  std::array<std::uint64_t, message_event_count> at_last_sample{};

  void add(message_event e, std::uint64_t n = 1) { totals[static_cast<std::size_t>(e)] += n; }
  std::uint64_t total(message_event e) const { return totals[static_cast<std::size_t>(e)]; }
  double rate(message_event e) const { return rates[static_cast<std::size_t>(e)]; }
  void sample(double seconds) {
    for (std::size_t i = 0; i < message_event_count; ++i) {
      rates[i] = seconds > 0 ? static_cast<double>(totals[i] - at_last_sample[i]) / seconds : 0.0;
      at_last_sample[i] = totals[i];
    }
  }
};

}  // namespace roost
