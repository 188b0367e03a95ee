// --connections-only N: the idle-connection memory scenario.
//
// Opens N connections, each with channel 1 open, from the main thread (a
// thread per connection would measure thread stacks, not the broker), holds
// them for --duration while someone samples the broker's RSS, then closes
// them. The connections keep small read buffers: they never carry messages.
// Every second each is polled without blocking, so a broker that drops
// connections while they sit idle fails the run instead of going unnoticed.
#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "perf/client_connection.hpp"
#include "perf/report.hpp"
#include "perf/run.hpp"
#include "perf/worker_stats.hpp"

namespace roost::perf {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t idle_read_buffer = 4096;

// Thousands of sockets need more than the usual soft limit of 1024 descriptors.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// Reads whatever the broker sent (nothing, normally); throws if it closed one.
void check_alive(std::vector<std::unique_ptr<client_connection>>& conns) {
  for (auto& c : conns) {
    while (c->receive() > 0) c->dispatch([](const frame_view&) { return true; });
  }
}

}  // namespace

int run_idle_connections(const options& opts) {
  raise_fd_limit();
  std::vector<std::unique_ptr<client_connection>> conns;
  conns.reserve(static_cast<std::size_t>(opts.connections_only));
  std::int64_t start = now_ns();
  int status = 0;
  try {
    while (conns.size() < static_cast<std::size_t>(opts.connections_only)) {
      conns.push_back(std::make_unique<client_connection>(opts.uri, idle_read_buffer));
    }
    std::printf("opened %zu idle connections in %.2f s; holding them for %.1f s\n", conns.size(),
                static_cast<double>(now_ns() - start) / 1e9, opts.duration);
    std::fflush(stdout);
    std::int64_t until = now_ns() + static_cast<std::int64_t>(opts.duration * 1e9);
    while (now_ns() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(1s, std::chrono::nanoseconds(until - now_ns())));
      check_alive(conns);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost-perf: connection %zu of %d: %s\n", conns.size() + 1, opts.connections_only, e.what());
    status = 1;
  }
  for (auto& c : conns) c->close();
  std::printf("closed %zu connections\n", conns.size());
  print_result_line(run_result{});
  return status;
}

}  // namespace roost::perf
