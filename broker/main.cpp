// roost: parse flags, start the broker thread's listeners, print where they
// listen (tests wait for that line), and shut down cleanly on SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "broker/broker.hpp"
#include "broker/config.hpp"
#include "broker/log.hpp"
#include "broker/server.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  roost::config cfg;
  bool exit_now = false;
  if (auto error = roost::parse_command_line(argc, argv, cfg, exit_now)) {
    std::fprintf(stderr, "roost: %s\n", error->c_str());
    return 2;
  }
  if (exit_now) return 0;
  roost::log::set_level(cfg.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code fs_error;
  std::filesystem::create_directories(cfg.data_dir, fs_error);
  if (fs_error) {
    std::fprintf(stderr, "roost: cannot create data directory '%s': %s\n", cfg.data_dir.c_str(),
                 fs_error.message().c_str());
    return 1;
  }

  boost::asio::io_context io(1);
  roost::broker broker(cfg);
  roost::server server(io, broker);
  std::uint16_t port = 0;
  try {
    port = server.listen(cfg.bind, cfg.amqp_port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot listen on %s:%u: %s\n", cfg.bind.c_str(), cfg.amqp_port, e.what());
    return 1;
  }
  std::printf("listening amqp %s %u\n", cfg.bind.c_str(), port);
  std::fflush(stdout);
  roost::log::info("roost " ROOST_VERSION " listening for AMQP on " + cfg.bind + ":" + std::to_string(port));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    roost::log::info("received signal " + std::to_string(signal) + ", shutting down");
    server.stop();
    stop_when_drained(drain_timer, broker, std::chrono::steady_clock::now() + shutdown_grace, io);
  });
  io.run();
  roost::log::info("stopped");
  return 0;
}
