#include "admin-ui/queue_messages.hpp"

#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/message_json.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/connection.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

// The x-death header's entries, most recent first, in the few fields an operator reads.
json death_summary(const json& content) {
  json out = json::array();
  const json* deaths = nullptr;
  if (auto p = content.find("properties"); p != content.end())
    if (auto h = p->find("headers"); h != p->end())
      if (auto d = h->find("x-death"); d != h->end() && d->is_array()) deaths = &*d;
  if (deaths == nullptr) return out;
  for (const json& d : *deaths) {
    if (!d.is_object()) continue;
    json entry = json::object();
    for (const char* field : {"queue", "reason", "count", "exchange", "routing-keys"})
      if (auto it = d.find(field); it != d.end()) entry[field] = *it;
    out.push_back(std::move(entry));
  }
  return out;
}

json message_json(const ready_view& v, std::string_view state, std::uint64_t position, const page_options& o) {
  json m = content_or_error_json(*v.msg, o);
  m["id"] = std::to_string(v.seq);
  m["state"] = state;
  m["position"] = position;
  m["redelivered"] = v.redelivered;
  m["delivery_count"] = v.delivery_count;
  m["expires_at"] = v.expires_at_ms == 0 ? json(nullptr) : json(v.expires_at_ms);
  m["x_death"] = death_summary(m);
  return m;
}

}  // namespace

page_options page_options_from(const query_params& q) {
  page_options o;
  o.limit = query_number(q, "limit").value_or(100);
  if (o.limit < 1 || o.limit > 1000) bad_request("limit must be between 1 and 1000");
  auto asked = q.find("encoding");
  o.encoding = checked_encoding(asked == q.end() ? "auto" : asked->second);
  o.truncate = static_cast<std::int64_t>(query_number(q, "truncate").value_or(50000));
  return o;
}

json content_or_error_json(const message& msg, const page_options& o) {
  try {
    return content_json(msg, o.encoding, o.truncate);
  } catch (const amqp::decode_error& e) {
    return json{{"payload_bytes", msg.body.size()}, {"properties_error", e.what()}};
  }
}

std::vector<unacked_view> unacked_of(const api_call& c, const queue& q) {
  std::vector<unacked_view> out;
  const vhost& v = c.vh();
  for (const auto& [id, conn] : c.ctx.b.connections()) {
    if (!conn->has_vhost() || &conn->vh() != &v) continue;
    for (const auto& entry : conn->channels()) {
      const channel& ch = *entry.second;  // a named reference: clang lets no lambda capture a structured binding
      ch.unacked().for_each([&](const unacked_delivery& d) {
        if (d.queue_id != q.id()) return;
        const queued_message& m = d.entry;
        out.push_back(unacked_view{ready_view{m.seq, 0, m.msg, m.redelivered, m.delivery_count, m.expires_at_ms},
                                   channel_name(ch, c.ctx), d.owner != nullptr ? d.owner->tag() : "", d.tag});
      });
    }
  }
  return out;
}

json ready_json(const ready_view& v, std::uint64_t position, const page_options& o) {
  return message_json(v, "ready", position, o);
}

json unacked_json(const unacked_view& u, std::uint64_t position, const page_options& o) {
  json m = message_json(u.view, "unacked", position, o);
  m["channel"] = u.channel;
  m["consumer_tag"] = u.consumer_tag;
  m["delivery_tag"] = u.delivery_tag;
  return m;
}

}  // namespace roost::admin
