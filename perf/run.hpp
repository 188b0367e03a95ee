// The two kinds of run roost-perf does. Each returns the process exit status:
// 0 on success, 1 if the broker refused something or messages went missing.
#pragma once

#include "perf/options.hpp"

namespace roost::perf {

// Producers and consumers: declare, consume, publish, drain, check, report.
int run_load(const options& opts);
// --connections-only: open N idle connections and hold them for --duration.
int run_idle_connections(const options& opts);

}  // namespace roost::perf
