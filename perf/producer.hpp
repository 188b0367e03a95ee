// A publishing worker: one connection, one thread, publishing as fast as the
// broker takes them or on a paced schedule, optionally with confirms.
#pragma once

#include <string>

#include "perf/options.hpp"
#include "perf/worker_stats.hpp"

namespace roost::perf {

struct producer_setup {
  const options* opts = nullptr;
  std::string exchange;
  std::string routing_key;
  worker_stats* stats = nullptr;
  run_control* control = nullptr;
};

// The thread body. Never throws: failures land in stats->error.
void run_producer(const producer_setup& setup) noexcept;

}  // namespace roost::perf
