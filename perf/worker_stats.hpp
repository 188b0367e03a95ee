// What worker threads share with the main thread: per-worker counters, and
// the run's start and stop signals.
//
// Each worker writes only its own worker_stats (one cache line apart, so
// producers and consumers never false-share) and publishes them once per
// batch with relaxed stores; the main thread samples them for progress lines
// and sums them after join(). No locks anywhere on the message path.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace roost::perf {

// steady_clock in ns: the clock stamped into bodies (same host only).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time the calling thread has used so far, in ns.
inline std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

enum class worker_state : int { starting, ready, finished, failed };

struct alignas(64) worker_stats {
  std::atomic<std::uint64_t> messages{0};   // sent (producer) or received (consumer)
  std::atomic<std::uint64_t> confirmed{0};  // producers with --confirm
  std::atomic<std::uint64_t> nacked{0};
  std::atomic<std::int64_t> first_ns{0};    // first message sent / received; 0 = none yet
  std::atomic<std::int64_t> last_ns{0};     // latest message sent / received
  std::atomic<worker_state> state{worker_state::starting};
  // The thread's CPU time and lifetime, set as it ends: shows whether the
  // load generator itself ran out of CPU.
  std::atomic<std::int64_t> cpu_ns{0};
  std::atomic<std::int64_t> wall_ns{0};
  std::string error;  // set before state becomes failed (the store releases it)

  void fail(std::string why) {
    error = std::move(why);
    state.store(worker_state::failed, std::memory_order_release);
  }
  void end_thread(std::int64_t started_ns) {
    cpu_ns.store(thread_cpu_ns(), std::memory_order_relaxed);
    wall_ns.store(now_ns() - started_ns, std::memory_order_relaxed);
  }
  // Counts and the active period, once per batch.
  void publish(std::uint64_t count, std::int64_t at) {
    if (first_ns.load(std::memory_order_relaxed) == 0) first_ns.store(at, std::memory_order_relaxed);
    last_ns.store(at, std::memory_order_relaxed);
    messages.store(count, std::memory_order_relaxed);
  }
};

struct run_control {
  std::atomic<std::int64_t> go_ns{0};  // producers publish from this instant; 0 = not yet
  std::atomic<bool> stop{false};       // every worker winds down (end of drain, or abort)
};

}  // namespace roost::perf
