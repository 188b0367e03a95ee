// /api/connections, /api/channels, /api/consumers: what AMQP clients have
// open. DELETE of a connection sends it connection.close 320
// CONNECTION_FORCED, with the X-Reason header as text when given.
// Monitors and administrators see everyone's; other users their own, and
// only an administrator closes someone else's connection (authorization.hpp).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/connection.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

// Connections sorted by id, so lists come out in the order clients connected.
std::vector<connection*> open_connections(broker& b) {
  std::vector<std::pair<std::uint64_t, connection*>> by_id(b.connections().begin(), b.connections().end());
  std::sort(by_id.begin(), by_id.end());
  std::vector<connection*> out;
  for (auto& [id, c] : by_id) out.push_back(c);
  return out;
}

bool in_vhost(const connection& c, const std::string* vhost_name) {
  return vhost_name == nullptr || (c.has_vhost() && c.vh().name() == *vhost_name);
}

// The connection the path names, if the caller may see (GET) or close (DELETE) it.
connection& named_connection(const api_call& c) {
  for (connection* conn : open_connections(c.ctx.b))
    if (connection_name(*conn, c.ctx) == c.param("name")) {
      check_object_owner(c, conn->user());
      return *conn;
    }
  not_found("no connection '" + c.param("name") + "'");
}

json connections_json(const api_call& c, const std::string* vhost_name) {
  json items = json::array();
  for (connection* conn : open_connections(c.ctx.b))
    if (in_vhost(*conn, vhost_name) && sees_user(c, conn->user())) items.push_back(connection_json(*conn, c.ctx));
  return items;
}

json channels_json(const api_call& c, const std::string* vhost_name, const connection* only) {
  json items = json::array();
  for (connection* conn : open_connections(c.ctx.b)) {
    if (!in_vhost(*conn, vhost_name) || (only != nullptr && only != conn) || !sees_user(c, conn->user())) continue;
    std::vector<std::pair<std::uint16_t, const channel*>> channels;
    for (const auto& [number, ch] : conn->channels()) channels.emplace_back(number, ch.get());
    std::sort(channels.begin(), channels.end());
    for (auto& [number, ch] : channels) items.push_back(channel_json(*ch, c.ctx));
  }
  return items;
}

json consumers_json(const api_call& c, const std::string* vhost_name) {
  json items = json::array();
  for (connection* conn : open_connections(c.ctx.b)) {
    if (!in_vhost(*conn, vhost_name) || !sees_user(c, conn->user())) continue;
    for (const auto& [number, ch] : conn->channels())
      for (const auto& [tag, consumer] : ch->consumers())
        if (consumer->source() != nullptr) items.push_back(consumer_json(*consumer, c.ctx));
  }
  return items;
}

http_response connections(const api_call& c) { return list_response(c, connections_json(c, nullptr)); }
http_response vhost_connections(const api_call& c) {
  c.vh();
  return list_response(c, connections_json(c, &c.param("vhost")));
}
http_response show_connection(const api_call& c) { return json_response(connection_json(named_connection(c), c.ctx)); }
http_response connection_channels(const api_call& c) {
  return list_response(c, channels_json(c, nullptr, &named_connection(c)));
}

http_response close_connection(const api_call& c) {
  connection& conn = named_connection(c);
  const std::string* reason = c.req.header("x-reason");
  conn.close(amqp::connection_reply::connection_forced,
             reason != nullptr ? *reason : std::string("Closed via management plugin"));
  return no_content();
}

http_response channels(const api_call& c) { return list_response(c, channels_json(c, nullptr, nullptr)); }
http_response vhost_channels(const api_call& c) {
  c.vh();
  return list_response(c, channels_json(c, &c.param("vhost"), nullptr));
}
http_response show_channel(const api_call& c) {
  for (connection* conn : open_connections(c.ctx.b))
    for (const auto& [number, ch] : conn->channels())
      if (channel_name(*ch, c.ctx) == c.param("name")) {
        check_object_owner(c, conn->user());
        return json_response(channel_json(*ch, c.ctx));
      }
  not_found("no channel '" + c.param("name") + "'");
}

http_response consumers(const api_call& c) { return list_response(c, consumers_json(c, nullptr)); }
http_response vhost_consumers(const api_call& c) {
  c.vh();
  return list_response(c, consumers_json(c, &c.param("vhost")));
}

}  // namespace

void add_connection_routes(api_router& r) {
  r.add("GET", "/api/connections", connections);
  r.add("GET", "/api/vhosts/:vhost/connections", vhost_connections);
  r.add("GET", "/api/connections/:name", show_connection);
  r.add("DELETE", "/api/connections/:name", close_connection);
  r.add("GET", "/api/connections/:name/channels", connection_channels);
  r.add("GET", "/api/channels", channels);
  r.add("GET", "/api/vhosts/:vhost/channels", vhost_channels);
  r.add("GET", "/api/channels/:name", show_channel);
  r.add("GET", "/api/consumers", consumers);
  // RabbitMQ checks nothing about this vhost: the list is filtered by owner instead.
  r.add("GET", "/api/consumers/:vhost", {vhost_consumers, {needs::management, vhost_rule::none}});
}

}  // namespace roost::admin
