#include "admin-ui/broker_view.hpp"

#include <unistd.h>

#include <chrono>

#include "admin-ui/json_body.hpp"
#include "admin-ui/properties_key.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/policy/effective.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/stream/stream.hpp"
#include "broker/protocol/connection.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr const char* event_names[message_event_count] = {
    "publish", "deliver", "deliver_no_ack", "get", "get_no_ack", "ack", "redeliver", "confirm",
    "return_unroutable", "drop_unroutable"};

std::string amqp_endpoint(const admin_context& ctx) {
  for (const listener& l : ctx.listeners)
    if (l.protocol == "amqp") return l.address + ":" + std::to_string(l.port);
  return "";
}

std::string state_name(connection::state s) {
  switch (s) {
    case connection::state::open: return "running";
    case connection::state::closing: return "closing";
    case connection::state::closed: return "closed";
    default: return "starting";
  }
}

}  // namespace

unacked_counts count_unacked(broker& b) {
  unacked_counts counts;
  for (const auto& [id, c] : b.connections()) {
    if (!c->has_vhost()) continue;
    vhost& v = c->vh();
    for (const auto& [number, ch] : c->channels())
      ch->unacked().for_each([&](const unacked_delivery& d) {
        // A stream's deliveries are credit, not messages held back: RabbitMQ counts none as unacked.
        if (const queue* q = v.queue_by_id(d.queue_id); q != nullptr && q->as_stream() == nullptr) ++counts[q];
      });
  }
  return counts;
}

vhost_totals count_vhost(const vhost& v, const unacked_counts& unacked) {
  vhost_totals t;
  for (const auto& [name, q] : v.queues()) {
    t.ready += q->ready_count();
    t.consumers += q->consumer_count();
    auto it = unacked.find(q.get());
    if (it != unacked.end()) t.unacked += it->second;
  }
  t.queues = v.queues().size();
  t.exchanges = v.exchanges().size();
  return t;
}

json queue_totals_json(const vhost_totals& t) {
  // Depth rates (messages_details) are not sampled: only message event rates are.
  return json{{"messages", t.ready + t.unacked}, {"messages_ready", t.ready}, {"messages_unacknowledged", t.unacked}};
}

json vhost_json(const vhost& v, const unacked_counts& unacked) {
  const vhost_settings& s = v.settings();
  json out = queue_totals_json(count_vhost(v, unacked));
  out["name"] = v.name();
  out["description"] = s.description;
  out["tags"] = s.tags;
  // RabbitMQ 3.10 shows "undefined" until a type is set.
  out["default_queue_type"] = s.default_queue_type.empty() ? "undefined" : s.default_queue_type;
  out["metadata"] = {{"description", s.description}, {"tags", s.tags}};
  out["tracing"] = false;
  out["cluster_state"] = {{node_name(), "running"}};
  return out;
}

std::string exchange_path_name(std::string_view name) { return name.empty() ? "amq.default" : std::string(name); }

std::string node_name() {
  // Looked up once: every listed queue and connection names its node.
  static const std::string name = [] {
    char host[256] = {};
    return ::gethostname(host, sizeof host - 1) == 0 ? std::string("roost@") + host : std::string("roost@localhost");
  }();
  return name;
}

std::string connection_name(const connection& c, const admin_context& ctx) {
  return c.peer() + " -> " + amqp_endpoint(ctx);
}

std::string channel_name(const channel& ch, const admin_context& ctx) {
  return connection_name(ch.conn(), ctx) + " (" + std::to_string(ch.id()) + ")";
}

json message_stats_json(const message_stats& s, zero_events zeros) {
  json out = json::object();
  std::uint64_t deliver_get = 0;
  double deliver_get_rate = 0;
  for (std::size_t i = 0; i < message_event_count; ++i) {
    auto e = static_cast<message_event>(i);
    if (zeros == zero_events::omit && s.total(e) == 0) continue;
    out[event_names[i]] = s.total(e);
    out[std::string(event_names[i]) + "_details"] = {{"rate", s.rate(e)}};
    if (e == message_event::deliver || e == message_event::deliver_no_ack || e == message_event::get ||
        e == message_event::get_no_ack) {
      deliver_get += s.total(e);
      deliver_get_rate += s.rate(e);
    }
  }
  if (zeros == zero_events::include || deliver_get > 0) {
    out["deliver_get"] = deliver_get;
    out["deliver_get_details"] = {{"rate", deliver_get_rate}};
  }
  return out;
}

namespace {

json plain_queue_json(const vhost& v, const queue& q, const unacked_counts& unacked) {
  auto it = unacked.find(&q);
  std::size_t unacked_count = it == unacked.end() ? 0 : it->second;
  std::size_t ready = q.ready_count();
  return json{{"name", q.name()},
              {"vhost", v.name()},
              {"durable", q.durable()},
              {"auto_delete", q.options().auto_delete},
              {"exclusive", q.options().exclusive},
              {"arguments", to_json(q.options().arguments)},
              {"messages", ready + unacked_count},
              {"messages_ready", ready},
              {"messages_unacknowledged", unacked_count},
              {"consumers", q.consumer_count()},
              {"state", "running"},
              {"type", type_name(q.type())},
              {"node", node_name()},
              {"message_stats", message_stats_json(q.stats(), zero_events::omit)},
              // As RabbitMQ 3.10: null and {} when no policy applies.
              {"policy", q.applied_policy() ? json(q.applied_policy()->name()) : json(nullptr)},
              {"operator_policy",
               q.applied_operator_policy() ? json(q.applied_operator_policy()->name()) : json(nullptr)},
              {"effective_policy_definition",
               to_json(effective_definition(q.applied_policy().get(), q.applied_operator_policy().get()))}};
}

// Roost's own fields for a stream: its offsets, segments and size, and the
// offsets kept for consumers with server-side tracking.
void add_stream_fields(json& out, const stream& s) {
  const stream_log& log = s.log();
  out["first_offset"] = log.first_offset();
  out["last_offset"] = log.message_count() == 0 ? json(nullptr) : json(log.next_offset() - 1);
  out["segments"] = log.segments().size();
  out["stream_bytes"] = log.bytes();
  json tracked = json::array();
  for (const auto& [tag, offset] : s.tracked_offsets()) tracked.push_back(json{{"consumer_tag", tag}, {"offset", offset}});
  out["tracked_offsets"] = std::move(tracked);
}

}  // namespace

json consumer_json(const channel_consumer& consumer, const admin_context& ctx) {
  const channel& ch = consumer.owner();
  const connection& conn = ch.conn();
  const queue& q = *consumer.source();
  json out{{"consumer_tag", consumer.tag()},
           {"queue", {{"name", q.name()}, {"vhost", conn.vh().name()}}},
           {"channel_details", {{"name", channel_name(ch, ctx)}, {"number", ch.id()},
                                {"connection_name", connection_name(conn, ctx)}, {"user", conn.user()}}},
           {"ack_required", !consumer.no_ack()},
           {"exclusive", consumer.exclusive()},
           {"prefetch_count", consumer.prefetch()},
           {"active", true},
           {"activity_status", "up"},
           {"arguments", to_json(consumer.arguments())}};
  if (const stream* s = q.as_stream())
    for (const auto& r : s->readers())
      if (r->target == &consumer) {
        out["offset"] = r->next;
        out["lag"] = stream_lag(s->log(), *r);
      }
  return out;
}

json consumer_details(const queue& q, const admin_context& ctx) {
  json out = json::array();
  for (const auto& [id, conn] : ctx.b.connections())
    for (const auto& [number, ch] : conn->channels())
      for (const auto& [tag, consumer] : ch->consumers())
        if (consumer->source() == &q) out.push_back(consumer_json(*consumer, ctx));
  return out;
}

std::uint64_t stream_lag(const stream_log& log, const stream_reader& r) {
  return log.next_offset() - std::min(log.next_offset(), r.next);
}

json queue_json(const vhost& v, const queue& q, const unacked_counts& unacked) {
  json out = plain_queue_json(v, q, unacked);
  if (const stream* s = q.as_stream()) add_stream_fields(out, *s);
  return out;
}

json exchange_json(const vhost& v, const exchange& x) {
  const exchange_spec& s = x.spec();
  json out{{"name", s.name},
           {"vhost", v.name()},
           {"type", s.type},
           {"durable", s.durable == durability::durable},
           {"auto_delete", s.auto_delete},
           {"internal", s.internal},
           {"arguments", to_json(s.arguments)}};
  // RabbitMQ lists an exchange's policy only when one applies.
  if (x.applied_policy()) out["policy"] = x.applied_policy()->name();
  return out;
}

json binding_json(vhost& v, const exchange& source, const binding& b) {
  bool to_queue = b.destination.kind == routing::destination_kind::queue;
  std::string destination;
  if (to_queue) {
    if (const queue* q = v.queue_by_id(b.destination.id)) destination = q->name();
  } else {
    for (const auto& [name, x] : v.exchanges())
      if (x->id() == b.destination.id) destination = name;
  }
  return json{{"source", source.name()},
              {"vhost", v.name()},
              {"destination", destination},
              {"destination_type", to_queue ? "queue" : "exchange"},
              {"routing_key", b.routing_key},
              {"arguments", to_json(b.arguments)},
              {"properties_key", properties_key(b)}};
}

json vhost_bindings(vhost& v) {
  json out = json::array();
  // RabbitMQ lists the default exchange's implicit binding to every queue first.
  for (const auto& [name, q] : v.queues())
    out.push_back(json{{"source", ""},
                       {"vhost", v.name()},
                       {"destination", name},
                       {"destination_type", "queue"},
                       {"routing_key", name},
                       {"arguments", json::object()},
                       {"properties_key", properties_key(binding{{}, name, {}})}});
  for (const auto& [name, x] : v.exchanges())
    for (const binding& b : x->bindings()) out.push_back(binding_json(v, *x, b));
  return out;
}

json connection_json(const connection& c, const admin_context& ctx) {
  auto connected = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch() - (std::chrono::steady_clock::now() - c.opened_at()));
  std::string peer = c.peer();
  std::size_t colon = peer.rfind(':');
  return json{{"name", connection_name(c, ctx)},
              {"node", node_name()},
              {"user", c.user()},
              {"vhost", c.has_vhost() ? c.vh().name() : ""},
              {"state", c.blocked() ? "blocked" : c.in_flow() ? "flow" : state_name(c.current_state())},
              {"channels", c.channels().size()},
              {"peer_host", peer.substr(0, colon)},
              {"peer_port", colon == std::string::npos ? 0 : std::atoi(peer.c_str() + colon + 1)},
              {"protocol", "AMQP 0-9-1"},
              {"ssl", c.over_tls()},
              {"timeout", c.heartbeat_seconds()},
              {"frame_max", c.frame_max()},
              {"channel_max", c.channel_max()},
              {"connected_at", connected.count()},
              {"type", "network"}};
}

json channel_json(const channel& ch, const admin_context& ctx) {
  const connection& c = ch.conn();
  return json{{"name", channel_name(ch, ctx)},
              {"number", ch.id()},
              {"node", node_name()},
              {"user", c.user()},
              {"vhost", c.has_vhost() ? c.vh().name() : ""},
              {"connection_details", {{"name", connection_name(c, ctx)}, {"peer_host", c.peer()}}},
              {"consumer_count", ch.consumers().size()},
              {"messages_unacknowledged", ch.unacked().size()},
              {"prefetch_count", ch.consumer_prefetch()},
              {"global_prefetch_count", ch.global_prefetch()},
              {"confirm", ch.confirm_mode()},
              {"transactional", ch.transactional()},
              {"state", ch.flow_active() ? "running" : "flow"}};
}

}  // namespace roost::admin
