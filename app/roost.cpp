// roost: parse flags, load the TLS certificate, then serve: a single node
// opens its store and listens at once (serving_node.hpp); a cluster node
// joins through etcd and serves while it leads (cluster_member.hpp).
// Reloads the certificate on SIGHUP, shuts down cleanly on SIGINT/SIGTERM,
// and starts itself again after a cluster leader steps down.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "app/cluster_member.hpp"
#include "app/command_line.hpp"
#include "app/serving_node.hpp"
#include "broker/common/log.hpp"
#include "net/tls_server_context.hpp"

namespace {

using namespace std::chrono_literals;
constexpr auto shutdown_grace = 5s;

// Polls until `done` (every client gone, the lease revoked) or the grace period ends.
void stop_when_done(boost::asio::steady_timer& timer, std::function<bool()> done,
                    std::chrono::steady_clock::time_point deadline, boost::asio::io_context& io) {
  if (done() || std::chrono::steady_clock::now() >= deadline) {
    io.stop();
    return;
  }
  timer.expires_after(20ms);
  timer.async_wait([&timer, done = std::move(done), deadline, &io](const boost::system::error_code&) mutable {
    stop_when_done(timer, std::move(done), deadline, io);
  });
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

// Every client is a descriptor: take the whole hard limit (the soft one is
// often 1,024), as RabbitMQ's packages do, so that connection limits and
// not the descriptor table decide how many clients fit.
void raise_descriptor_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// A deposed leader starts again as a follower: the same program with the
// same arguments, holding nothing of the old process but its store on
// disk. Descriptors Asio opened without close-on-exec are closed first.
int start_again(char** argv) {
  std::fflush(stdout);
  std::fflush(stderr);
  ::close_range(3, ~0U, 0);
  ::execv("/proc/self/exe", argv);
  std::perror("roost: cannot start again");
  return 1;
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
  std::unique_ptr<roost::app::serving_node> single;
  std::optional<roost::app::cluster_member> member;
  auto serving = [&]() { return member ? member->serving() : single.get(); };
  // Installed before the listening lines: a SIGTERM right after them must
  // still be a clean stop, and a SIGHUP a reload rather than the end.
  boost::asio::signal_set hangup(io, SIGHUP);
  reload_on_hangup(hangup, tls->get());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    roost::log::info("received signal " + std::to_string(signal) + ", shutting down");
    hangup.cancel();
    roost::app::serving_node* node = serving();
    if (node != nullptr) node->stop("shutdown");
    if (member) member->resign();
    auto done = [&, node] { return (node == nullptr || node->drained()) && (!member || member->resigned()); };
    stop_when_done(drain_timer, done, std::chrono::steady_clock::now() + shutdown_grace, io);
  });
  if (opts.cluster.enabled()) {
    member.emplace(opts, io, tls->get());
    if (!member->start()) return 1;
  } else {
    single = roost::app::serving_node::start(opts, io, tls->get(), nullptr);
    if (!single) return 1;
  }

  io.run();
  if (roost::app::serving_node* node = serving()) node->finish(io);
  if (member && member->restart_requested()) return start_again(argv);
  roost::log::info("stopped");
  return member ? member->exit_code() : 0;
}
