// Orchestrating a load run.
//
// Order matters for honest numbers: the topology is declared first from one
// setup connection; then every consumer subscribes, so no message waits in
// a queue for a consumer that is still connecting; then every producer
// connects and they all start publishing at one common instant. After the
// producers stop, consumers get at most --drain seconds to receive what was
// sent (or confirmed), counted per queue. Every worker owns its connection
// and thread; the main thread only samples counters and prints.
#include "perf/run.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "perf/consumer.hpp"
#include "perf/producer.hpp"
#include "perf/report.hpp"
#include "perf/topology.hpp"

namespace roost::perf {

namespace {

using namespace std::chrono_literals;

// Longer than a worker's own setup_timeout, so a stuck worker reports its own error first.
constexpr std::int64_t ready_timeout_ns = 35'000'000'000;
constexpr auto sample_interval = 20ms;
constexpr std::int64_t progress_interval_ns = 1'000'000'000;
constexpr std::size_t setup_read_buffer = 64 * 1024;

bool settled(const worker_stats& s) {
  auto state = s.state.load(std::memory_order_acquire);
  return state == worker_state::finished || state == worker_state::failed;
}

message_counts counts_since(const message_counts& now, const message_counts& before) {
  return {now.sent - before.sent, now.confirmed - before.confirmed, now.nacked - before.nacked,
          now.received - before.received};
}

class load_run {
 public:
  explicit load_run(const options& o)
      : opts_(o), producer_stats_(o.producers), consumer_stats_(o.no_consume ? 0 : o.consumers),
        latency_(consumer_stats_.size()) {}
  int execute();

 private:
  bool run_workers();
  int refused(const std::exception& e);
  void start_consumers();
  void start_producers();
  bool wait_ready(const std::vector<worker_stats>& group);
  template <class Done>
  void watch(Done done, std::int64_t deadline);
  bool queues_complete() const;
  message_counts sample() const;
  run_result collect() const;
  bool report_failures() const;
  bool check_counts(const run_result& r) const;
  void stop_workers();

  const options& opts_;
  std::int64_t started_ns_ = now_ns();
  topology topo_ = plan_topology(opts_);
  run_control control_;
  std::vector<worker_stats> producer_stats_;
  std::vector<worker_stats> consumer_stats_;
  std::vector<latency_histogram> latency_;
  std::vector<producer_setup> producer_setups_;
  std::vector<consumer_setup> consumer_setups_;
  std::vector<std::thread> threads_;
  message_counts last_sample_;
  std::int64_t last_sample_ns_ = 0;
};

void load_run::start_consumers() {
  for (std::size_t i = 0; i < consumer_stats_.size(); ++i) {
    const std::string& queue = topo_.queues[i % topo_.queues.size()];
    consumer_setups_.push_back({&opts_, queue, "roost-perf-" + std::to_string(i + 1), &consumer_stats_[i],
                                &control_, &latency_[i]});
  }
  // Threads start only after the vector is complete: they keep references into it.
  for (const auto& s : consumer_setups_) threads_.emplace_back(run_consumer, std::cref(s));
}

void load_run::start_producers() {
  for (std::size_t i = 0; i < producer_stats_.size(); ++i) {
    producer_setups_.push_back({&opts_, topo_.exchange, topo_.routing_key, &producer_stats_[i], &control_});
  }
  for (const auto& s : producer_setups_) threads_.emplace_back(run_producer, std::cref(s));
}

bool load_run::wait_ready(const std::vector<worker_stats>& group) {
  std::int64_t deadline = now_ns() + ready_timeout_ns;
  for (const worker_stats& s : group) {
    for (;;) {
      auto state = s.state.load(std::memory_order_acquire);
      if (state == worker_state::failed) return false;
      if (state != worker_state::starting) break;
      if (now_ns() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
  }
  return true;
}

message_counts load_run::sample() const {
  message_counts c;
  for (const auto& s : producer_stats_) {
    c.sent += s.messages.load(std::memory_order_relaxed);
    c.confirmed += s.confirmed.load(std::memory_order_relaxed);
    c.nacked += s.nacked.load(std::memory_order_relaxed);
  }
  for (const auto& s : consumer_stats_) c.received += s.messages.load(std::memory_order_relaxed);
  return c;
}

// Prints a progress line every second until done() holds, the deadline
// passes, or a worker fails.
template <class Done>
void load_run::watch(Done done, std::int64_t deadline) {
  for (;;) {
    std::int64_t now = now_ns();
    if (now - last_sample_ns_ >= progress_interval_ns) {
      message_counts c = sample();
      print_progress(opts_, static_cast<double>(now - control_.go_ns.load()) / 1e9,
                     static_cast<double>(now - last_sample_ns_) / 1e9, counts_since(c, last_sample_));
      last_sample_ = c;
      last_sample_ns_ = now;
    }
    bool failed = false;
    for (const auto* group : {&producer_stats_, &consumer_stats_}) {
      for (const auto& s : *group) failed |= s.state.load(std::memory_order_acquire) == worker_state::failed;
    }
    if (failed || done() || now >= deadline) return;
    std::this_thread::sleep_for(sample_interval);
  }
}

// Every queue has delivered what producers sent (or, with confirms, what
// was confirmed); with --cmessages, every consumer has had its count.
bool load_run::queues_complete() const {
  if (opts_.cmessages > 0)
    return std::all_of(consumer_stats_.begin(), consumer_stats_.end(), [this](const worker_stats& s) {
      return s.messages.load(std::memory_order_relaxed) >= opts_.cmessages;
    });
  message_counts c = sample();
  std::uint64_t expected = opts_.confirm > 0 ? c.confirmed : c.sent;
  std::vector<std::uint64_t> got(topo_.queues.size());
  for (std::size_t i = 0; i < consumer_stats_.size(); ++i) {
    got[i % got.size()] += consumer_stats_[i].messages.load(std::memory_order_relaxed);
  }
  for (std::uint64_t g : got) {
    if (g < expected) return false;
  }
  return true;
}

run_result load_run::collect() const {
  run_result r;
  r.n = sample();
  auto rate = [](std::uint64_t n, const std::vector<worker_stats>& group) {
    std::int64_t first = 0, last = 0;
    for (const auto& s : group) {
      std::int64_t f = s.first_ns.load(), l = s.last_ns.load();
      if (f != 0 && (first == 0 || f < first)) first = f;
      last = std::max(last, l);
    }
    // A run that fit into one batch has no measurable period.
    return last > first ? static_cast<double>(n) * 1e9 / static_cast<double>(last - first) : 0.0;
  };
  r.send_rate = rate(r.n.sent, producer_stats_);
  r.recv_rate = rate(r.n.received, consumer_stats_);
  auto busiest = [](const std::vector<worker_stats>& group) {
    double pct = 0;
    for (const auto& s : group) {
      if (s.wall_ns > 0) pct = std::max(pct, 100.0 * static_cast<double>(s.cpu_ns) / static_cast<double>(s.wall_ns));
    }
    return pct;
  };
  r.producer_cpu_pct = busiest(producer_stats_);
  r.consumer_cpu_pct = busiest(consumer_stats_);
  for (const auto& h : latency_) r.latency.merge(h);
  return r;
}

// Prints every worker's error; true if there was any.
bool load_run::report_failures() const {
  bool any = false;
  for (const auto* group : {&producer_stats_, &consumer_stats_}) {
    for (const auto& s : *group) {
      if (s.state.load(std::memory_order_acquire) != worker_state::failed) continue;
      std::fprintf(stderr, "roost-perf: %s\n", s.error.c_str());
      any = true;
    }
  }
  return any;
}

bool load_run::check_counts(const run_result& r) const {
  if (opts_.no_consume) return true;
  if (opts_.cmessages > 0) {
    if (queues_complete()) return true;
    std::fprintf(stderr, "roost-perf: a consumer got fewer than %llu messages within the %.1f s drain\n",
                 static_cast<unsigned long long>(opts_.cmessages), opts_.drain);
    return false;
  }
  std::uint64_t expected = opts_.confirm > 0 ? r.n.confirmed : r.n.sent;
  bool ok = true;
  for (std::size_t q = 0; q < topo_.queues.size(); ++q) {
    std::uint64_t got = 0;
    for (std::size_t i = q; i < consumer_stats_.size(); i += topo_.queues.size()) got += consumer_stats_[i].messages;
    if (got >= expected) continue;
    std::fprintf(stderr, "roost-perf: queue %s delivered %llu of %llu %s messages within the %.1f s drain\n",
                 topo_.queues[q].c_str(), static_cast<unsigned long long>(got),
                 static_cast<unsigned long long>(expected), opts_.confirm > 0 ? "confirmed" : "sent", opts_.drain);
    ok = false;
  }
  return ok;
}

void load_run::stop_workers() {
  control_.stop.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

// Setup failed before any load: just the reason and an all-zero RESULT line.
int load_run::refused(const std::exception& e) {
  std::fprintf(stderr, "roost-perf: setup failed: %s\n", e.what());
  print_result_line(run_result{});
  return 1;
}

// Consumers subscribe, then producers connect, then all publish from one
// instant; then the drain. Returns false if any worker failed.
bool load_run::run_workers() {
  start_consumers();
  bool ready = wait_ready(consumer_stats_);
  if (ready) {
    start_producers();
    ready = wait_ready(producer_stats_);
  }
  if (ready) {
    last_sample_ns_ = now_ns();
    control_.go_ns.store(last_sample_ns_, std::memory_order_release);
    auto producers_done = [this] {
      for (const auto& s : producer_stats_) {
        if (!settled(s)) return false;
      }
      return true;
    };
    watch(producers_done, std::numeric_limits<std::int64_t>::max());
    if (!opts_.no_consume) {
      watch([this] { return queues_complete(); }, now_ns() + static_cast<std::int64_t>(opts_.drain * 1e9));
    }
  }
  stop_workers();
  bool failed = report_failures();
  if (!ready && !failed) std::fprintf(stderr, "roost-perf: workers did not finish connecting in time\n");
  return ready && !failed;
}

int load_run::execute() {
  std::unique_ptr<client_connection> setup;
  try {
    setup = std::make_unique<client_connection>(opts_.uri, setup_read_buffer);
    declare_topology(*setup, opts_, topo_);
  } catch (const std::exception& e) {
    return refused(e);
  }
  bool ok = run_workers();
  try {
    if (topo_.fresh_names && !opts_.no_consume) delete_queues(*setup, topo_);
    if (opts_.no_consume) std::printf("the published messages stay queued in %s\n", topo_.queues.front().c_str());
    setup->close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost-perf: cleanup: %s\n", e.what());
    ok = false;
  }
  run_result r = collect();
  print_summary(opts_, r, static_cast<double>(now_ns() - started_ns_) / 1e9);
  ok = check_counts(r) && ok;
  print_result_line(r);
  return ok ? 0 : 1;
}

}  // namespace

int run_load(const options& opts) {
  load_run run(opts);
  return run.execute();
}

}  // namespace roost::perf
