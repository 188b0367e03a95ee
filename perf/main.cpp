// roost-perf: an AMQP 0-9-1 load generator in the spirit of RabbitMQ's
// PerfTest, for measuring Roost (and RabbitMQ, for comparison) from the
// outside: throughput, end-to-end latency, confirms, fanout, idle
// connections. It speaks the protocol through the broker's own codec
// (amqp/), so it exercises exactly the wire format Roost implements.
// Exit status: 0 ok, 1 refused or messages missing, 2 bad flags.
#include <csignal>
#include <cstdio>

#include "perf/options.hpp"
#include "perf/run.hpp"

int main(int argc, char** argv) {
  roost::perf::options opts;
  bool exit_now = false;
  if (auto error = roost::perf::parse_options(argc, argv, opts, exit_now)) {
    std::fprintf(stderr, "roost-perf: %s\n", error->c_str());
    return 2;
  }
  if (exit_now) return 0;
  std::signal(SIGPIPE, SIG_IGN);  // a broker hanging up is reported by send(), not by a signal
  return opts.connections_only > 0 ? roost::perf::run_idle_connections(opts) : roost::perf::run_load(opts);
}
