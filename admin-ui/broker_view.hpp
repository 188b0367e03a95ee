// Broker objects as the RabbitMQ management API shows them: queues,
// exchanges, bindings, connections, channels, consumers, message stats.
//
// Read-only: these functions only look at broker state through its
// accessors. Shared by the list/get handlers, /api/definitions and the
// Prometheus exporter so each field is computed in one place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "admin-ui/api_call.hpp"
#include "broker/model/message_stats.hpp"

namespace roost {
class broker;
class channel;
class channel_consumer;
class connection;
class exchange;
class queue;
class stream_log;
class vhost;
struct binding;
struct stream_reader;
}  // namespace roost

namespace roost::admin {

// Unacknowledged deliveries per queue, over every channel: one pass over
// all outstanding deliveries, done once per request. A stream has none
// (its deliveries hold credit, not messages), as in RabbitMQ.
using unacked_counts = std::unordered_map<const queue*, std::size_t>;
unacked_counts count_unacked(broker& b);

// A vhost's messages, queues, exchanges and consumers (the overview adds them up).
struct vhost_totals {
  std::size_t ready = 0;
  std::size_t unacked = 0;
  std::size_t queues = 0;
  std::size_t exchanges = 0;
  std::size_t consumers = 0;
};
vhost_totals count_vhost(const vhost& v, const unacked_counts& unacked);
// {"messages", "messages_ready", "messages_unacknowledged"}.
nlohmann::json queue_totals_json(const vhost_totals& t);
// A vhost as /api/vhosts lists it: name, description, tags, default_queue_type, metadata, totals.
nlohmann::json vhost_json(const vhost& v, const unacked_counts& unacked);

// The API's name for an exchange: "" is shown as "" in bodies but addressed as "amq.default" in paths.
std::string exchange_path_name(std::string_view name);

std::string node_name();
// "127.0.0.1:50000 -> 127.0.0.1:5672", RabbitMQ's connection name.
std::string connection_name(const connection& c, const admin_context& ctx);
// "<connection name> (<channel number>)".
std::string channel_name(const channel& ch, const admin_context& ctx);

// {"publish": n, "publish_details": {"rate": r}, ...} plus deliver_get. Per object (queue) only the
// events that happened are listed, as RabbitMQ does; that also keeps big lists cheap to build.
enum class zero_events { omit, include };
nlohmann::json message_stats_json(const message_stats& s, zero_events zeros);

nlohmann::json queue_json(const vhost& v, const queue& q, const unacked_counts& unacked);
// A consumer as /api/consumers and a queue's consumer_details list it
// (a stream's consumers also with their offset and lag).
nlohmann::json consumer_json(const channel_consumer& consumer, const admin_context& ctx);
// The consumers of q, on every connection.
nlohmann::json consumer_details(const queue& q, const admin_context& ctx);
// How many messages a stream reader has yet to reach.
std::uint64_t stream_lag(const stream_log& log, const stream_reader& r);
nlohmann::json exchange_json(const vhost& v, const exchange& x);
nlohmann::json binding_json(vhost& v, const exchange& source, const binding& b);
// Every binding of a vhost, default-exchange bindings included (as RabbitMQ lists them).
nlohmann::json vhost_bindings(vhost& v);
nlohmann::json connection_json(const connection& c, const admin_context& ctx);
nlohmann::json channel_json(const channel& ch, const admin_context& ctx);

}  // namespace roost::admin
