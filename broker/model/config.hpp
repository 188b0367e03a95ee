// The broker's settings: what it offers clients in connection.tune, the
// limits it enforces, its alarms' thresholds, and where its data lives. The
// program fills them from its command line (app/command_line.hpp); tests
// construct them directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "broker/model/memory_watermark.hpp"

namespace roost {

struct config {
  std::string data_dir = "./data";
  // The first user of a new data dir (RabbitMQ's default_user / default_pass):
  // administrator, with every permission on "/".
  std::string default_user = "guest";
  std::string default_pass = "guest";
  // Users who may log in only from a loopback address (RabbitMQ's loopback_users).
  std::vector<std::string> loopback_users = {"guest"};
  // Ready messages a queue keeps in memory before paging the rest to disk.
  std::size_t queue_window = 100000;

  // What connection.tune offers; clients may only lower these.
  std::uint16_t channel_max = 2047;
  std::uint32_t frame_max = 131072;
  std::uint16_t heartbeat_seconds = 60;

  std::uint64_t max_message_size = 128ull * 1024 * 1024;  // RabbitMQ's default limit
  // From TCP accept to connection.open (RabbitMQ's handshake_timeout).
  std::uint32_t handshake_timeout_ms = 10000;
  // AMQP connections open at once (counted from accept, handshake or not);
  // more are closed as they are accepted. 0: no limit.
  std::size_t max_connections = 0;
  // Outbound bytes queued on one connection past which its consumers pause
  // and its publishers stop being read.
  std::size_t connection_high_water = 4 * 1024 * 1024;
  // Store operations waiting for a commit past which publishers are paused.
  std::size_t store_backlog_high = 200000;
  // Free space on the data dir's filesystem below which publishers are paused
  // (RabbitMQ's disk_free_limit, same default). 0 disables the check.
  std::uint64_t disk_free_limit = 50'000'000;
  // Resident memory past which publishers are paused (RabbitMQ's
  // vm_memory_high_watermark: 0.4 of RAM by default).
  memory_watermark memory_high_watermark;
};

}  // namespace roost
