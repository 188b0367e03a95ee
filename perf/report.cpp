// Printing roost-perf's progress, summary and RESULT line.
//
// The summary also reports roost-perf's own CPU use, so a reader can tell
// whether the load generator rather than the broker was the bottleneck.
#include "perf/report.hpp"

#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>

namespace roost::perf {

namespace {

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace

void print_progress(const options& o, double at_s, double seconds, const message_counts& d) {
  auto per_s = [seconds](std::uint64_t n) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; };
  std::printf("%7.1f s  sent %10.0f msg/s", at_s, per_s(d.sent));
  if (o.confirm > 0) std::printf("  confirmed %10.0f msg/s", per_s(d.confirmed));
  if (!o.no_consume) std::printf("  received %10.0f msg/s", per_s(d.received));
  std::printf("\n");
  std::fflush(stdout);
}

void print_summary(const options& o, const run_result& r, double wall) {
  std::printf("\nroost-perf: %d producer(s), %d consumer(s), %u B, %s, %s, confirm %u, prefetch %u, %d queue(s)\n",
              o.producers, o.no_consume ? 0 : o.consumers, o.size, o.persistent ? "persistent" : "transient",
              o.autoack ? "autoack" : "manual ack", o.confirm, o.prefetch, o.queues);
  std::printf("  sent       %12" PRIu64 "   %12.0f msg/s\n", r.n.sent, r.send_rate);
  if (o.confirm > 0) std::printf("  confirmed  %12" PRIu64 "   (nacked %" PRIu64 ")\n", r.n.confirmed, r.n.nacked);
  if (!o.no_consume) {
    std::printf("  received   %12" PRIu64 "   %12.0f msg/s\n", r.n.received, r.recv_rate);
    const latency_histogram& h = r.latency;
    std::printf("  latency    p50 %.0f us  p95 %.0f us  p99 %.0f us  max %.0f us  (%" PRIu64 " samples)\n",
                us(h.quantile(0.50)), us(h.quantile(0.95)), us(h.quantile(0.99)), us(h.max()), h.count());
  }
  double cpu = cpu_seconds();
  std::printf("  roost-perf CPU %.2f s in %.2f s; busiest producer thread %.0f%%, consumer thread %.0f%% of a core\n",
              cpu, wall, r.producer_cpu_pct, r.consumer_cpu_pct);
}

void print_result_line(const run_result& r) {
  const latency_histogram& h = r.latency;
  std::printf("RESULT sent=%" PRIu64 " confirmed=%" PRIu64 " received=%" PRIu64
              " send_rate=%.0f recv_rate=%.0f p50_us=%.0f p95_us=%.0f p99_us=%.0f max_us=%.0f\n",
              r.n.sent, r.n.confirmed, r.n.received, r.send_rate, r.recv_rate, us(h.quantile(0.50)),
              us(h.quantile(0.95)), us(h.quantile(0.99)), us(h.max()));
  std::fflush(stdout);
}

}  // namespace roost::perf
