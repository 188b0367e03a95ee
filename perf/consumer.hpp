// A consuming worker: one connection, one thread, one basic.consume on one
// queue; counts deliveries, acks them and records end-to-end latency.
#pragma once

#include <string>

#include "perf/latency_histogram.hpp"
#include "perf/options.hpp"
#include "perf/worker_stats.hpp"

namespace roost::perf {

struct consumer_setup {
  const options* opts = nullptr;
  std::string queue;
  std::string consumer_tag;
  worker_stats* stats = nullptr;
  run_control* control = nullptr;
  latency_histogram* latency = nullptr;  // written by this consumer only; read after join
};

// The thread body. Never throws: failures land in stats->error.
void run_consumer(const consumer_setup& setup) noexcept;

}  // namespace roost::perf
