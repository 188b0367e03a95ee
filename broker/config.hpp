// Broker settings from the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/log.hpp"
#include "storage/store.hpp"

namespace roost {

struct config {
  std::string bind = "0.0.0.0";
  std::uint16_t amqp_port = 5672;  // 0: pick a free port and print it
  std::uint16_t http_port = 15672;  // the admin API and dashboard; 0 as for amqp_port
  // The dashboard's files; defaults to admin-ui/static in the source tree this was built from.
  std::string http_static = ROOST_HTTP_STATIC_DIR;
  std::string data_dir = "./data";
  log::level log_level = log::level::info;
  storage::sync_mode sync = storage::sync_mode::full;
  // Ready messages a queue keeps in memory before paging the rest to disk.
  std::size_t queue_window = 100000;

  // What connection.tune offers; clients may only lower these.
  std::uint16_t channel_max = 2047;
  std::uint32_t frame_max = 131072;
  std::uint16_t heartbeat_seconds = 60;

  std::uint64_t max_message_size = 128ull * 1024 * 1024;  // RabbitMQ's default limit
  std::uint32_t handshake_timeout_ms = 10000;
  // Outbound bytes queued on one connection past which its consumers pause
  // and its publishers stop being read.
  std::size_t connection_high_water = 4 * 1024 * 1024;
  // Store operations waiting for a commit past which publishers are paused.
  std::size_t store_backlog_high = 200000;
  // Free space on the data dir's filesystem below which publishers are paused
  // (RabbitMQ's disk_free_limit, same default). 0 disables the check.
  std::uint64_t disk_free_limit = 50'000'000;
};

// Fills cfg from argv. Returns an error message, or nothing on success;
// sets `exit_now` for --help/--version (already printed).
std::optional<std::string> parse_command_line(int argc, char** argv, config& cfg, bool& exit_now);

}  // namespace roost
