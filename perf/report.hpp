// The run's totals and how they are printed: a human summary, then the one
// machine-readable RESULT line that scripts parse (always the last line).
#pragma once

#include <cstdint>

#include "perf/latency_histogram.hpp"
#include "perf/options.hpp"

namespace roost::perf {

struct message_counts {
  std::uint64_t sent = 0;
  std::uint64_t confirmed = 0;
  std::uint64_t nacked = 0;
  std::uint64_t received = 0;
};

struct run_result {
  message_counts n;
  double send_rate = 0;  // msg/s over the producers' active period
  double recv_rate = 0;  // msg/s over the consumers' active period
  // The busiest worker thread's CPU time over its lifetime, in % of one core:
  // near 100 means roost-perf, not the broker, set the pace.
  double producer_cpu_pct = 0;
  double consumer_cpu_pct = 0;
  latency_histogram latency;
};

// One progress line: counts since the previous line, over `seconds`.
void print_progress(const options& opts, double at_s, double seconds, const message_counts& delta);
// wall: seconds since roost-perf started, to put its own CPU time in proportion.
void print_summary(const options& opts, const run_result& r, double wall);
void print_result_line(const run_result& r);

}  // namespace roost::perf
