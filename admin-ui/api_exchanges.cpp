// /api/exchanges: list, show, declare, delete, the exchange's bindings, and
// publish. The default exchange is "amq.default" in paths, "" in bodies.
// Declare and delete are the vhost operations exchange.declare /
// exchange.delete use; publish routes and enqueues as basic.publish does.
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "broker/common/base64.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/message_json.hpp"
#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/publish/enqueue.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

std::string exchange_name(const api_call& c) {
  const std::string& name = c.param("name");
  return name == "amq.default" ? std::string() : name;
}

exchange& existing_exchange(const api_call& c) {
  exchange* x = c.vh().find_exchange(exchange_name(c));
  if (x == nullptr) not_found("no exchange '" + c.param("name") + "' in vhost '" + c.param("vhost") + "'");
  return *x;
}

void check_path_fields(const api_call& c, const json& body) {
  if (body.contains("vhost") && string_field(body, "vhost", "") != c.param("vhost"))
    bad_request("vhost in body does not match the path");
  if (body.contains("name") && string_field(body, "name", "") != c.param("name"))
    bad_request("name in body does not match the path");
}

http_response list_all(const api_call& c) {
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts())
    if (lists_vhost(c, name))
      for (const auto& [x_name, x] : v->exchanges()) items.push_back(exchange_json(*v, *x));
  return list_response(c, std::move(items));
}

http_response list_vhost(const api_call& c) {
  vhost& v = c.vh();
  json items = json::array();
  for (const auto& [name, x] : v.exchanges()) items.push_back(exchange_json(v, *x));
  return list_response(c, std::move(items));
}

http_response show(const api_call& c) { return json_response(exchange_json(c.vh(), existing_exchange(c))); }

http_response declare(const api_call& c) {
  vhost& v = c.vh();
  json body = parse_body(c.req);
  check_fields(body, {"type", "durable", "auto_delete", "internal", "arguments", "vhost", "name"});
  check_path_fields(c, body);
  exchange_spec spec;
  spec.name = exchange_name(c);
  spec.type = required_string(body, "type");
  spec.durable = bool_field(body, "durable", true) ? durability::durable : durability::transient;
  spec.auto_delete = bool_field(body, "auto_delete", false);
  spec.internal = bool_field(body, "internal", false);
  spec.arguments = table_field(body, "arguments");
  if (spec.name.size() > 255) bad_request("exchange name longer than 255 bytes");
  require_declare(c, v, "exchange", c.param("name"), spec.arguments);
  bool existed = v.find_exchange(spec.name) != nullptr;
  v.declare_exchange(spec, false);
  return existed ? no_content() : created();
}

http_response remove(const api_call& c) {
  existing_exchange(c);
  require(c, c.vh(), access::configure, "exchange", c.param("name"));
  auto it = c.query.find("if-unused");
  c.vh().delete_exchange(exchange_name(c), it != c.query.end() && it->second == "true");
  return no_content();
}

http_response bindings_where(const api_call& c, const char* side) {
  vhost& v = c.vh();
  exchange& x = existing_exchange(c);
  json items = json::array();
  for (auto& b : vhost_bindings(v)) {
    bool is_exchange_side = std::string_view(side) == "source" || b["destination_type"] == "exchange";
    if (is_exchange_side && b[side] == x.name()) items.push_back(std::move(b));
  }
  return list_response(c, std::move(items));
}

http_response bindings_source(const api_call& c) { return bindings_where(c, "source"); }
http_response bindings_destination(const api_call& c) { return bindings_where(c, "destination"); }

std::string decode_payload(const json& body) {
  std::string payload = string_field(body, "payload", "");
  std::string encoding = string_field(body, "payload_encoding", "string");
  if (encoding == "string") return payload;
  if (encoding != "base64") bad_request("payload_encoding must be string or base64");
  auto bytes = base64_decode(payload);
  if (!bytes) bad_request("payload is not valid base64");
  return std::move(*bytes);
}

http_response publish(const api_call& c) {
  vhost& v = c.vh();
  exchange& x = existing_exchange(c);
  json body = parse_body(c.req);
  check_fields(body, {"routing_key", "payload", "payload_encoding", "properties", "vhost", "name", "exchange"});
  if (body.contains("vhost") && string_field(body, "vhost", "") != c.param("vhost"))
    bad_request("vhost in body does not match the path");
  if (x.spec().internal) throw_access_refused("cannot publish to internal " + describe("exchange", x.name(), v.name()));
  auto msg = std::make_shared<message>();
  msg->exchange = x.name();
  msg->routing_key = required_string(body, "routing_key");
  if (msg->routing_key.size() > 255) bad_request("routing_key longer than 255 bytes");
  require_publish(c, v, x, c.param("name"), msg->routing_key);
  msg->body = decode_payload(body);
  if (msg->body.size() > c.ctx.b.cfg().max_message_size) bad_request("payload larger than the maximum message size");
  amqp::basic_properties props;
  if (body.contains("properties")) props = properties_from_json(body["properties"]);
  amqp::wire_writer w(msg->properties);
  amqp::encode_properties(w, props);
  msg->delivery_mode = props.delivery_mode.value_or(0);
  msg->priority = props.priority.value_or(0);
  storage_context& storage = c.ctx.b.storage();
  if (msg->persistent() && storage.durable != nullptr) msg->store_id = storage.next_message_id++;
  std::vector<queue*> queues;
  v.route(x, *msg, queues);
  message_stats& stats = c.ctx.b.stats();
  stats.add(message_event::publish);
  if (queues.empty()) stats.add(message_event::drop_unroutable);
  message_ref shared = std::move(msg);
  enqueue_routed(storage, shared, queues, [](std::uint32_t) { return storage::completion{}; });
  return json_response(json{{"routed", !queues.empty()}});
}

}  // namespace

void add_exchange_routes(api_router& r) {
  r.add("GET", "/api/exchanges", list_all);
  r.add("GET", "/api/exchanges/:vhost", list_vhost);
  r.add("GET", "/api/exchanges/:vhost/:name", show);
  r.add("PUT", "/api/exchanges/:vhost/:name", declare);
  r.add("DELETE", "/api/exchanges/:vhost/:name", remove);
  r.add("GET", "/api/exchanges/:vhost/:name/bindings/source", bindings_source);
  r.add("GET", "/api/exchanges/:vhost/:name/bindings/destination", bindings_destination);
  r.add("POST", "/api/exchanges/:vhost/:name/publish", publish);
}

}  // namespace roost::admin
