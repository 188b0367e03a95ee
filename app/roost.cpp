// roost: parse flags, load the TLS certificate, open the SQLite store and
// recover what it holds, apply --load-definitions, start the listeners
// (AMQP, AMQPS, HTTP, HTTPS, and the control socket roostctl talks to),
// print where they listen (tests wait for those lines), watch memory,
// reload the certificate on SIGHUP, and shut down cleanly on SIGINT/SIGTERM.
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "admin-ui/definitions.hpp"
#include "admin-ui/http_server.hpp"
#include "app/command_line.hpp"
#include "broker/common/heap_release.hpp"
#include "broker/common/log.hpp"
#include "broker/common/process_memory.hpp"
#include "broker/expiry/deadline_scheduler.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/transport/server.hpp"
#include "net/local_socket.hpp"
#include "net/tls_server_context.hpp"
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

// Binds one listener through `bind` and records where it ended up; on
// failure prints why and returns false.
bool start_listener(roost::admin::admin_context& admin, const std::string& protocol, const std::string& address,
                    std::uint16_t port, const std::function<std::uint16_t()>& bind) {
  try {
    admin.listeners.push_back({protocol, address, bind()});
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot listen for %s on %s:%u: %s\n", protocol.c_str(), address.c_str(), port,
                 e.what());
    return false;
  }
}

// Binds the AMQP, AMQPS, HTTP and HTTPS listeners the options ask for and
// creates the control socket in the data dir (after open_stores: the data
// dir's lock is ours, so a socket file already there is stale); on failure
// prints why and returns false. tls is null without a certificate.
bool listen(const roost::app::options& opts, roost::server& amqp, roost::admin::http_server& http,
            roost::admin::admin_context& admin, roost::net::tls_server_credentials* tls) {
  const std::string& address = opts.bind;
  bool ok = true;
  if (opts.amqp_port)
    ok = start_listener(admin, "amqp", address, *opts.amqp_port,
                        [&] { return amqp.listen(address, *opts.amqp_port); });
  if (ok && tls != nullptr)
    ok = start_listener(admin, "amqps", address, *opts.amqps_port,
                        [&] { return amqp.listen_tls(address, *opts.amqps_port, *tls); });
  if (ok)
    ok = start_listener(admin, "http", address, opts.http_port, [&] { return http.listen(address, opts.http_port); });
  if (ok && tls != nullptr && opts.https_port)
    ok = start_listener(admin, "https", address, *opts.https_port,
                        [&] { return http.listen_tls(address, *opts.https_port, *tls); });
  if (!ok) return false;
  std::string control = roost::net::control_socket_path(opts.broker.data_dir);
  try {
    http.listen_control(control);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot create the control socket %s: %s\n", control.c_str(), e.what());
    return false;
  }
  return true;
}

// The certificate and key the TLS listeners present, read before anything
// listens; on failure prints why (one line) and returns nothing.
std::optional<std::unique_ptr<roost::net::tls_server_credentials>> load_tls(const roost::net::tls_options& options) {
  if (!options.enabled()) return std::unique_ptr<roost::net::tls_server_credentials>();
  try {
    return std::make_unique<roost::net::tls_server_credentials>(options);
  } catch (const roost::net::tls_setup_error& e) {
    std::fprintf(stderr, "roost: %s\n", e.what());
    return std::nullopt;
  }
}

// SIGHUP: read the certificate and key again for new TLS connections; open
// ones keep theirs. A file that fails keeps the old certificate.
void reload_on_hangup(boost::asio::signal_set& hangup, roost::net::tls_server_credentials* tls) {
  hangup.async_wait([&hangup, tls](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (tls == nullptr) {
      roost::log::info("received SIGHUP; no TLS certificate to reload");
    } else if (auto error = tls->reload()) {
      roost::log::error("TLS certificate reload failed, keeping the current one: " + *error);
    } else {
      roost::log::info("TLS certificate reloaded from " + tls->options().certificate_file +
                       "; new connections use it");
    }
    reload_on_hangup(hangup, tls);
  });
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

// Every 250 ms: RabbitMQ's memory monitor (publishers pause while resident
// memory is over the watermark). More often than housekeeping because a
// publisher can add hundreds of megabytes a second; reading the resident
// size costs a few microseconds.
void watch_memory(boost::asio::steady_timer& timer, roost::broker& broker) {
  broker.check_memory(roost::resident_memory_bytes());
  timer.expires_after(250ms);
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) watch_memory(timer, broker);
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

// Every client is a descriptor: take the whole hard limit (the soft one is
// often 1,024), as RabbitMQ's packages do, so that connection limits and
// not the descriptor table decide how many clients fit.
void raise_descriptor_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
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
  raise_descriptor_limit();

  auto tls = load_tls(opts.tls);
  if (!tls) return 1;
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
  if (!listen(opts, server, http, admin, tls->get())) return 1;
  // Installed before the listening lines: a SIGTERM right after them must
  // still be a clean stop, and a SIGHUP a reload rather than the end.
  boost::asio::signal_set hangup(io, SIGHUP);
  reload_on_hangup(hangup, tls->get());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    roost::log::info("received signal " + std::to_string(signal) + ", shutting down");
    server.stop();
    http.stop();
    hangup.cancel();
    stop_when_drained(drain_timer, broker, std::chrono::steady_clock::now() + shutdown_grace, io);
  });
  announce(admin, opts.broker.data_dir);

  boost::asio::steady_timer housekeeping_timer(io);
  roost::heap_releaser heap;
  housekeeping(housekeeping_timer, broker, heap);
  boost::asio::steady_timer memory_timer(io);
  watch_memory(memory_timer, broker);
  io.run();
  drop_remaining(broker, io);
  stores->durable->close();
  stores->scratch->close();
  roost::log::info("stopped");
  return 0;
}
