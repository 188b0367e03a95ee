// roost: parse flags, open the SQLite store and recover what it holds, apply
// --load-definitions, start the listeners (AMQP, HTTP, and the control
// socket roostctl talks to), print where they listen (tests wait for that
// line), and shut down cleanly on SIGINT/SIGTERM.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

#include "admin-ui/definitions.hpp"
#include "admin-ui/http_server.hpp"
#include "app/command_line.hpp"
#include "broker/common/heap_release.hpp"
#include "broker/common/log.hpp"
#include "broker/expiry/deadline_scheduler.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/transport/server.hpp"
#include "net/local_socket.hpp"
#include "storage/store.hpp"

namespace {

using namespace std::chrono_literals;
constexpr auto shutdown_grace = 5s;

// Polls until every connection has gone or the grace period ends.
void stop_when_drained(boost::asio::steady_timer& timer, roost::broker& b,
                       std::chrono::steady_clock::time_point deadline, boost::asio::io_context& io) {
  if (b.connections().empty() || std::chrono::steady_clock::now() >= deadline) {
    io.stop();
    return;
  }
  timer.expires_after(20ms);
  timer.async_wait([&timer, &b, deadline, &io](const boost::system::error_code&) {
    stop_when_drained(timer, b, deadline, io);
  });
}

std::string summary(const roost::storage::recovered_state& s, double seconds) {
  std::uint64_t messages = 0;
  for (const auto& q : s.queues) messages += q.entry_count;
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.2f", seconds);
  return "recovered " + std::to_string(s.exchanges.size()) + " exchanges, " + std::to_string(s.queues.size()) +
         " queues, " + std::to_string(s.bindings.size()) + " bindings, " + std::to_string(messages) +
         " messages in " + elapsed + " s";
}

struct stores {
  std::unique_ptr<roost::storage::store> durable;  // roost.db, synced as --sync says
  std::unique_ptr<roost::storage::store> scratch;  // paging.db: transient messages paged out, emptied at start
};

// Opens both stores in the data dir; on failure prints why and returns nothing.
std::optional<stores> open_stores(const roost::app::options& opts, boost::asio::io_context& io) {
  auto post = [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); };
  const std::string& dir = opts.broker.data_dir;
  std::string error;
  stores s;
  s.durable = roost::storage::open_sqlite_store({dir, "roost.db", opts.sync, false}, post, error);
  if (s.durable) s.scratch = roost::storage::open_sqlite_store({dir, "paging.db", roost::storage::sync_mode::off, true}, post, error);
  if (!s.scratch) {
    std::fprintf(stderr, "roost: %s\n", error.c_str());
    return std::nullopt;
  }
  return s;
}

// Rebuilds what the durable store holds, and returns once the first window
// of every recovered queue is in memory, before any client can ask. A
// record that cannot be read: prints why and returns false.
bool recover(roost::broker& broker, roost::storage::store& durable, boost::asio::io_context& io,
             const std::string& data_dir) {
  auto started = std::chrono::steady_clock::now();
  auto recovered = durable.recover();
  try {
    broker.restore(recovered);
  } catch (const roost::damaged_store& e) {
    std::fprintf(stderr, "roost: data dir %s is damaged: %s; not starting, the files are left as they are\n",
                 data_dir.c_str(), e.what());
    return false;
  }
  {
    // The guard keeps run_one waiting for the store's completions instead
    // of returning because nothing else is queued.
    auto guard = boost::asio::make_work_guard(io);
    while (broker.loading()) io.run_one();
  }
  io.restart();  // releasing the last work guard stopped the context
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  roost::log::info(summary(recovered, took.count()));
  return true;
}

// Binds the AMQP and HTTP listeners and creates the control socket in the
// data dir (after open_stores: the data dir's lock is ours, so a socket
// file already there is stale); on failure prints why and returns false.
bool listen(const roost::app::options& opts, roost::server& amqp, roost::admin::http_server& http,
            roost::admin::admin_context& admin) {
  std::uint16_t amqp_port = 0;
  std::uint16_t http_port = 0;
  try {
    amqp_port = amqp.listen(opts.bind, opts.amqp_port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot listen on %s:%u: %s\n", opts.bind.c_str(), opts.amqp_port, e.what());
    return false;
  }
  try {
    http_port = http.listen(opts.bind, opts.http_port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot listen for HTTP on %s:%u: %s\n", opts.bind.c_str(), opts.http_port, e.what());
    return false;
  }
  std::string control = roost::net::control_socket_path(opts.broker.data_dir);
  try {
    http.listen_control(control);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot create the control socket %s: %s\n", control.c_str(), e.what());
    return false;
  }
  admin.listeners = {{"amqp", opts.bind, amqp_port}, {"http", opts.bind, http_port}};
  return true;
}

// The lines tests and scripts wait for: where each listener ended up (port 0 picks one).
void announce(const roost::admin::admin_context& admin, const std::string& data_dir) {
  std::string where;
  for (const auto& l : admin.listeners) {
    std::printf("listening %s %s %u\n", l.protocol.c_str(), l.address.c_str(), l.port);
    where += (where.empty() ? "" : ", ") + l.protocol + " on " + l.address + ":" + std::to_string(l.port);
  }
  std::fflush(stdout);
  roost::log::info("roost " ROOST_VERSION " listening for " + where + "; roostctl on control socket " +
                   roost::net::control_socket_path(data_dir));
}

// Once a second: RabbitMQ's disk monitor (publishers pause while free space
// is below the limit), and freed heap memory goes back to the system once
// traffic stops.
void housekeeping(boost::asio::steady_timer& timer, roost::broker& broker, roost::heap_releaser& heap) {
  broker.check_disk();
  heap.tick(broker.activity());
  timer.expires_after(1s);
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) housekeeping(timer, broker, heap);
  });
}

// Clients that outlived the grace period: drop their sockets and let their
// coroutines finish now, while the broker they refer to still exists.
void drop_remaining(roost::broker& broker, boost::asio::io_context& io) {
  std::vector<roost::connection*> remaining;
  for (auto& [id, c] : broker.connections()) remaining.push_back(c);
  for (roost::connection* c : remaining) c->abort();
  io.restart();
  io.poll();
}

}  // namespace

int main(int argc, char** argv) {
  roost::app::options opts;
  bool exit_now = false;
  if (auto error = roost::app::parse_command_line(argc, argv, opts, exit_now)) {
    std::fprintf(stderr, "roost: %s\n", error->c_str());
    return 2;
  }
  if (exit_now) return 0;
  roost::log::set_level(opts.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  boost::asio::io_context io(1);
  auto stores = open_stores(opts, io);
  if (!stores) return 1;
  roost::deadline_scheduler timers(io);
  roost::broker broker(opts.broker, {stores->durable.get(), stores->scratch.get()}, &timers);
  if (!recover(broker, *stores->durable, io, opts.broker.data_dir)) return 1;
  if (!opts.load_definitions.empty()) {
    if (auto error = roost::admin::load_definitions_file(broker, opts.load_definitions)) {
      std::fprintf(stderr, "roost: %s\n", error->c_str());
      return 1;
    }
  }
  broker.start_timers(io);

  roost::server server(io, broker);
  roost::admin::admin_context admin{broker, {}, opts.http_static};
  roost::admin::http_server http(io, admin);
  if (!listen(opts, server, http, admin)) return 1;
  // Installed before the listening lines: a SIGTERM right after them must still be a clean stop.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    roost::log::info("received signal " + std::to_string(signal) + ", shutting down");
    server.stop();
    http.stop();
    stop_when_drained(drain_timer, broker, std::chrono::steady_clock::now() + shutdown_grace, io);
  });
  announce(admin, opts.broker.data_dir);

  boost::asio::steady_timer housekeeping_timer(io);
  roost::heap_releaser heap;
  housekeeping(housekeeping_timer, broker, heap);
  io.run();
  drop_remaining(broker, io);
  stores->durable->close();
  stores->scratch->close();
  roost::log::info("stopped");
  return 0;
}
