// roost-perf's command line: what a load-generation run should do, and the
// broker address it should do it against.
//
// Kept apart from the workers so that they see one validated, immutable
// description of the run (defaults filled in, contradictions rejected) and
// never re-interpret flags themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace roost::perf {

// amqp://user:pass@host:port/vhost, percent-decoded; amqps:// for TLS.
struct amqp_uri {
  std::string user = "guest";
  std::string password = "guest";
  std::string host = "127.0.0.1";
  std::uint16_t port = 5672;  // 5671 for amqps://
  std::string vhost = "/";
  bool tls = false;
};

// Returns an error text, or nothing when `text` was a valid AMQP URI.
std::optional<std::string> parse_uri(const std::string& text, amqp_uri& out);

struct options {
  amqp_uri uri;
  int producers = 1;
  int consumers = 1;
  std::uint32_t size = 16;          // body bytes; >= 16 (timestamp + sequence)
  bool persistent = false;          // delivery_mode 2
  std::uint32_t confirm = 0;        // max unconfirmed per producer; 0 = no confirms
  std::uint16_t prefetch = 0;       // basic.qos prefetch_count; 0 = unlimited
  bool autoack = false;
  std::uint32_t multiple_ack = 1;   // ack with multiple=true every K messages
  std::string exchange;             // "" = the default exchange
  std::string exchange_type = "direct";
  std::optional<std::string> routing_key;
  std::optional<std::string> queue; // unset = a fresh name per run
  int queues = 1;
  bool durable = false;
  std::string queue_type;           // x-queue-type of the declared queues; "" = none (classic)
  double rate = 0;                  // msg/s per producer; 0 = unlimited
  double duration = 0;              // seconds producers publish; 0 = until --pmessages
  double drain = 10;                // seconds consumers keep receiving after producers stop
  std::uint64_t pmessages = 0;      // messages per producer; 0 = until --duration
  bool no_consume = false;
  int connections_only = 0;         // > 0: just hold that many idle connections
  std::string stream_offset;        // consumers' x-stream-offset: "first", "last", "next" or a number; "" = none
  std::uint64_t cmessages = 0;      // > 0: each consumer is done after this many (a replay, with --producers 0)
};

// Fills `out` from argv. Returns an error text for bad flags; sets
// `exit_now` (and returns nothing) after printing --help.
std::optional<std::string> parse_options(int argc, char** argv, options& out, bool& exit_now);

}  // namespace roost::perf
