// Opening, serving and closing a broker; see serving_node.hpp.
#include "app/serving_node.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <functional>
#include <vector>

#include "admin-ui/definitions.hpp"
#include "broker/common/log.hpp"
#include "broker/common/process_memory.hpp"
#include "broker/protocol/connection.hpp"
#include "net/local_socket.hpp"

namespace roost::app {

namespace {

using namespace std::chrono_literals;

std::string summary(const storage::recovered_state& s, double seconds) {
  std::uint64_t messages = 0;
  for (const auto& q : s.queues) messages += q.entry_count;
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.2f", seconds);
  return "recovered " + std::to_string(s.exchanges.size()) + " exchanges, " + std::to_string(s.queues.size()) +
         " queues, " + std::to_string(s.bindings.size()) + " bindings, " + std::to_string(messages) +
         " messages in " + elapsed + " s";
}

// Binds one listener through `bind` and records where it ended up; on
// failure prints why and returns false.
bool start_listener(admin::admin_context& admin, const std::string& protocol, const std::string& address,
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

}  // namespace

std::unique_ptr<serving_node> serving_node::start(const options& opts, boost::asio::io_context& io,
                                                  net::tls_server_credentials* tls,
                                                  const admin::cluster_status* cluster,
                                                  const store_hook& on_read) {
  auto post = [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); };
  const std::string& dir = opts.broker.data_dir;
  std::string error;
  stores s;
  s.durable = storage::open_sqlite_store({dir, "roost.db", opts.sync, false}, post, error);
  if (s.durable) s.scratch = storage::open_sqlite_store({dir, "paging.db", storage::sync_mode::off, true}, post, error);
  if (!s.scratch) {
    std::fprintf(stderr, "roost: %s\n", error.c_str());
    return nullptr;
  }
  std::unique_ptr<serving_node> node(new serving_node(opts, io, std::move(s)));
  node->admin_.cluster = cluster;
  if (!node->recover(opts, io, on_read)) return nullptr;
  if (!opts.load_definitions.empty()) {
    if (auto failure = admin::load_definitions_file(node->broker_, opts.load_definitions)) {
      std::fprintf(stderr, "roost: %s\n", failure->c_str());
      return nullptr;
    }
  }
  node->broker_.start_timers(io);
  if (!node->listen(opts, tls)) return nullptr;
  node->announce(dir);
  node->housekeeping();
  node->watch_memory();
  return node;
}

serving_node::serving_node(const options& opts, boost::asio::io_context& io, stores s)
    : stores_(std::move(s)),
      timers_(io),
      broker_(opts.broker, {stores_.durable.get(), stores_.scratch.get()}, &timers_),
      amqp_(io, broker_),
      admin_{broker_, {}, opts.http_static},
      http_(io, admin_),
      housekeeping_timer_(io),
      memory_timer_(io) {}

serving_node::~serving_node() {
  if (!finished_) {
    stores_.durable->close();
    stores_.scratch->close();
  }
}

// Rebuilds what the durable store holds, and returns once the first window
// of every recovered queue is in memory, before any client can ask. A
// record that cannot be read: prints why and returns false.
bool serving_node::recover(const options& opts, boost::asio::io_context& io, const store_hook& on_read) {
  auto started = std::chrono::steady_clock::now();
  auto recovered = stores_.durable->recover();
  if (on_read) on_read(*stores_.durable, recovered);
  try {
    broker_.restore(recovered);
  } catch (const damaged_store& e) {
    std::fprintf(stderr, "roost: data dir %s is damaged: %s; not starting, the files are left as they are\n",
                 opts.broker.data_dir.c_str(), e.what());
    return false;
  }
  {
    // The guard keeps run_one waiting for the store's completions instead
    // of returning because nothing else is queued. A stop (SIGTERM) ends
    // the wait; the caller's run() then returns at once.
    auto guard = boost::asio::make_work_guard(io);
    while (broker_.loading() && !io.stopped()) io.run_one();
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  log::info(summary(recovered, took.count()));
  return true;
}

// Binds the AMQP, AMQPS, HTTP and HTTPS listeners the options ask for and
// creates the control socket in the data dir (after the stores are open:
// the data dir's lock is ours, so a socket file already there is stale);
// on failure prints why and returns false. tls is null without a certificate.
bool serving_node::listen(const options& opts, net::tls_server_credentials* tls) {
  const std::string& address = opts.bind;
  tls_ = tls;
  https_ = tls != nullptr && opts.https_port;
  bool ok = true;
  if (opts.amqp_port)
    ok = start_listener(admin_, "amqp", address, *opts.amqp_port, [&] { return amqp_.listen(address, *opts.amqp_port); });
  if (ok && tls != nullptr)
    ok = start_listener(admin_, "amqps", address, *opts.amqps_port,
                        [&] { return amqp_.listen_tls(address, *opts.amqps_port, *tls); });
  if (ok)
    ok = start_listener(admin_, "http", address, opts.http_port, [&] { return http_.listen(address, opts.http_port); });
  if (ok && tls != nullptr && opts.https_port)
    ok = start_listener(admin_, "https", address, *opts.https_port,
                        [&] { return http_.listen_tls(address, *opts.https_port, *tls); });
  if (!ok) return false;
  std::string control = net::control_socket_path(opts.broker.data_dir);
  try {
    http_.listen_control(control);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot create the control socket %s: %s\n", control.c_str(), e.what());
    return false;
  }
  return true;
}

// The lines tests and scripts wait for: where each listener ended up (port 0 picks one).
void serving_node::announce(const std::string& data_dir) {
  std::string where;
  for (const auto& l : admin_.listeners) {
    std::printf("listening %s %s %u\n", l.protocol.c_str(), l.address.c_str(), l.port);
    where += (where.empty() ? "" : ", ") + l.protocol + " on " + l.address + ":" + std::to_string(l.port);
  }
  std::fflush(stdout);
  log::info("roost " ROOST_VERSION " listening for " + where + "; roostctl on control socket " +
            net::control_socket_path(data_dir));
}

// Once a second: RabbitMQ's disk monitor (publishers pause while free space
// is below the limit), and freed heap memory goes back to the system once
// traffic stops.
void serving_node::housekeeping() {
  broker_.check_disk();
  heap_.tick(broker_.activity());
  housekeeping_timer_.expires_after(1s);
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) housekeeping();
  });
}

// Every 250 ms: RabbitMQ's memory monitor (publishers pause while resident
// memory is over the watermark). More often than housekeeping because a
// publisher can add hundreds of megabytes a second; reading the resident
// size costs a few microseconds.
void serving_node::watch_memory() {
  broker_.check_memory(resident_memory_bytes());
  memory_timer_.expires_after(250ms);
  memory_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watch_memory();
  });
}

void serving_node::adopt(boost::asio::ip::tcp::socket client, const std::string& listener,
                         const net::peer_identity& peer) {
  if (stopped_) return;
  if (listener == "amqp") amqp_.adopt(std::move(client), peer, nullptr);
  else if (listener == "amqps" && tls_ != nullptr) amqp_.adopt(std::move(client), peer, tls_);
  else if (listener == "http") http_.adopt(std::move(client), peer, nullptr);
  else if (listener == "https" && https_) http_.adopt(std::move(client), peer, tls_);
  // else: the socket closes as it goes out of scope.
}

void serving_node::stop(const std::string& reason) {
  stopped_ = true;
  amqp_.stop(reason);
  http_.stop();
  housekeeping_timer_.cancel();
  memory_timer_.cancel();
}

// Clients that outlived the grace period: drop their sockets and let their
// coroutines finish now, while the broker they refer to still exists.
void serving_node::finish(boost::asio::io_context& io) {
  std::vector<connection*> remaining;
  for (auto& [id, c] : broker_.connections()) remaining.push_back(c);
  for (connection* c : remaining) c->abort();
  io.restart();
  io.poll();
  stores_.durable->close();
  stores_.scratch->close();
  finished_ = true;
}

}  // namespace roost::app
