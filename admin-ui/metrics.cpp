#include "admin-ui/metrics.hpp"

#include <algorithm>

#include <cstdio>

#include "admin-ui/broker_view.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/stream/stream.hpp"

namespace roost::admin {

namespace {

// Label values escape backslash, double quote and newline.
void append_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
}

void sample(std::string& out, std::string_view name, double value) {
  char number[32];
  std::snprintf(number, sizeof number, "%.17g", value);
  out.append(name).append(" ").append(number).append("\n");
}

struct queue_metric {
  const char* name;
  const char* type;
  const char* help;
  double (*value)(const queue& q, std::size_t unacked);
};

constexpr queue_metric queue_metrics[] = {
    {"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
     [](const queue& q, std::size_t) { return static_cast<double>(q.ready_count()); }},
    {"rabbitmq_queue_messages_unacked", "gauge", "Messages delivered to consumers but not yet acknowledged",
     [](const queue&, std::size_t u) { return static_cast<double>(u); }},
    {"rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages",
     [](const queue& q, std::size_t u) { return static_cast<double>(q.ready_count() + u); }},
    {"rabbitmq_queue_consumers", "gauge", "Consumers on a queue",
     [](const queue& q, std::size_t) { return static_cast<double>(q.consumer_count()); }},
    {"rabbitmq_queue_messages_published_total", "counter", "Messages published into a queue",
     [](const queue& q, std::size_t) { return static_cast<double>(q.stats().total(message_event::publish)); }},
};

struct global_counter {
  const char* name;
  const char* help;
  message_event event;
};

constexpr global_counter global_counters[] = {
    {"rabbitmq_global_messages_received_total", "Messages received from publishers", message_event::publish},
    {"rabbitmq_global_messages_confirmed_total", "Messages confirmed to publishers", message_event::confirm},
    {"rabbitmq_global_messages_delivered_consume_manual_ack_total",
     "Messages delivered to consumers that acknowledge", message_event::deliver},
    {"rabbitmq_global_messages_delivered_consume_auto_ack_total", "Messages delivered to consumers without acks",
     message_event::deliver_no_ack},
    {"rabbitmq_global_messages_delivered_get_manual_ack_total", "Messages fetched with basic.get and acks",
     message_event::get},
    {"rabbitmq_global_messages_delivered_get_auto_ack_total", "Messages fetched with basic.get without acks",
     message_event::get_no_ack},
    {"rabbitmq_global_messages_redelivered_total", "Messages redelivered to consumers", message_event::redeliver},
    {"rabbitmq_global_messages_acknowledged_total", "Messages acknowledged by consumers", message_event::ack},
    {"rabbitmq_global_messages_unroutable_returned_total", "Unroutable messages returned to publishers",
     message_event::return_unroutable},
    {"rabbitmq_global_messages_unroutable_dropped_total", "Unroutable messages dropped",
     message_event::drop_unroutable},
};

// Roost's stream gauges: size on disk and each consumer's lag.
void stream_metrics(std::string& out, broker& b) {
  std::string labelled;
  auto queue_label = [&](const char* name, const std::string& vhost_name, const std::string& queue_name) {
    labelled.assign(name).append("{vhost=\"");
    append_label(labelled, vhost_name);
    labelled.append("\",queue=\"");
    append_label(labelled, queue_name);
    labelled.append("\"");
  };
  header(out, "roost_stream_bytes", "gauge", "Body bytes a stream keeps");
  for (const auto& [vhost_name, v] : b.vhosts())
    for (const auto& [name, q] : v->queues())
      if (const stream* s = q->as_stream()) {
        queue_label("roost_stream_bytes", vhost_name, name);
        sample(out, labelled.append("}"), static_cast<double>(s->log().bytes()));
      }
  header(out, "roost_stream_consumer_lag", "gauge", "Messages a stream consumer has yet to reach");
  for (const auto& [vhost_name, v] : b.vhosts())
    for (const auto& [name, q] : v->queues())
      if (const stream* s = q->as_stream())
        for (const auto& r : s->readers()) {
          queue_label("roost_stream_consumer_lag", vhost_name, name);
          labelled.append(",consumer_tag=\"");
          append_label(labelled, r->tag);
          sample(out, labelled.append("\"}"), static_cast<double>(stream_lag(s->log(), *r)));
        }
}

}  // namespace

http_response metrics_response(admin_context& ctx) {
  broker& b = ctx.b;
  unacked_counts unacked = count_unacked(b);
  std::size_t queue_count = 0, channels = 0, consumers = 0;
  for (const auto& [name, v] : b.vhosts()) queue_count += v->queues().size();
  for (const auto& [id, c] : b.connections()) {
    channels += c->channels().size();
    for (const auto& [number, ch] : c->channels()) consumers += ch->consumers().size();
  }
  std::string out;
  out.reserve(4096 + queue_count * 400);
  header(out, "rabbitmq_connections", "gauge", "Connections currently open");
  sample(out, "rabbitmq_connections", static_cast<double>(b.connections().size()));
  header(out, "rabbitmq_channels", "gauge", "Channels currently open");
  sample(out, "rabbitmq_channels", static_cast<double>(channels));
  header(out, "rabbitmq_consumers", "gauge", "Consumers currently connected");
  sample(out, "rabbitmq_consumers", static_cast<double>(consumers));
  header(out, "rabbitmq_queues", "gauge", "Queues available");
  sample(out, "rabbitmq_queues", static_cast<double>(queue_count));
  header(out, "rabbitmq_alarms_free_disk_space_watermark", "gauge", "1 if the disk alarm is in effect");
  sample(out, "rabbitmq_alarms_free_disk_space_watermark", b.disk_alarm() ? 1 : 0);
  header(out, "rabbitmq_alarms_memory_used_watermark", "gauge", "1 if the memory alarm is in effect");
  sample(out, "rabbitmq_alarms_memory_used_watermark", b.memory_alarm() ? 1 : 0);
  header(out, "rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes");
  sample(out, "rabbitmq_process_resident_memory_bytes", static_cast<double>(b.memory_used()));
  header(out, "rabbitmq_resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes");
  sample(out, "rabbitmq_resident_memory_limit_bytes", static_cast<double>(b.memory_limit()));
  if (ctx.cluster != nullptr && ctx.cluster->replication) {
    replication_status r = ctx.cluster->replication();
    header(out, "roost_replication_position", "gauge", "The last store batch the leader committed");
    sample(out, "roost_replication_position", static_cast<double>(r.position));
    header(out, "roost_replication_in_sync_replicas", "gauge", "Nodes in the in-sync replica list, the leader included");
    sample(out, "roost_replication_in_sync_replicas", static_cast<double>(r.in_sync.size()));
    header(out, "roost_replication_follower_lag_batches", "gauge", "Batches a follower has yet to commit");
    for (const replica_status& f : r.followers) {
      std::string name = "roost_replication_follower_lag_batches{node=\"";
      append_label(name, f.node_id);
      name += "\"}";
      sample(out, name, static_cast<double>(r.position - std::min(r.position, f.acked)));
    }
  }
  for (const auto& g : global_counters) {
    header(out, g.name, "counter", g.help);
    sample(out, g.name, static_cast<double>(b.stats().total(g.event)));
  }
  std::string labelled;
  for (const auto& m : queue_metrics) {
    header(out, m.name, m.type, m.help);
    for (const auto& [vhost_name, v] : b.vhosts())
      for (const auto& [name, q] : v->queues()) {
        auto it = unacked.find(q.get());
        labelled.assign(m.name).append("{vhost=\"");
        append_label(labelled, vhost_name);
        labelled.append("\",queue=\"");
        append_label(labelled, name);
        labelled.append("\"}");
        sample(out, labelled, m.value(*q, it == unacked.end() ? 0 : it->second));
      }
  }
  stream_metrics(out, b);
  http_response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

}  // namespace roost::admin
