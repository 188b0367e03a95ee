// /api/queues: list, show, declare, delete, purge, get messages, and a
// queue's bindings (browsing, deleting and moving messages: api_queue_messages.cpp). Declare, delete and purge go through the same vhost
// operations as queue.declare / queue.delete / queue.purge, as owner 0 (the
// admin API may act on any queue, as RabbitMQ's management plugin can).
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/message_json.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"

namespace roost::admin {

using nlohmann::json;

queue& existing_queue(const api_call& c) {
  queue* q = c.vh().find_queue(c.param("name"));
  if (q == nullptr) not_found("no queue '" + c.param("name") + "' in vhost '" + c.param("vhost") + "'");
  return *q;
}

namespace {

constexpr owner_id admin_owner = 0;

// A body may repeat the path's vhost and name (rabbitmqadmin does); they must agree.
void check_path_fields(const api_call& c, const json& body, std::string_view name_field) {
  if (body.contains("vhost") && string_field(body, "vhost", "") != c.param("vhost"))
    bad_request("vhost in body does not match the path");
  if (body.contains(name_field) && string_field(body, name_field, "") != c.param("name"))
    bad_request(std::string(name_field) + " in body does not match the path");
}

http_response list_all(const api_call& c) {
  unacked_counts unacked = count_unacked(c.ctx.b);
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts())
    if (lists_vhost(c, name))
      for (const auto& [queue_name, q] : v->queues()) items.push_back(queue_json(*v, *q, unacked));
  return list_response(c, std::move(items));
}

http_response list_vhost(const api_call& c) {
  vhost& v = c.vh();
  unacked_counts unacked = count_unacked(c.ctx.b);
  json items = json::array();
  for (const auto& [name, q] : v.queues()) items.push_back(queue_json(v, *q, unacked));
  return list_response(c, std::move(items));
}

http_response show(const api_call& c) {
  queue& q = existing_queue(c);
  json out = queue_json(c.vh(), q, count_unacked(c.ctx.b));
  out["consumer_details"] = consumer_details(q, c.ctx);
  return json_response(std::move(out));
}

http_response declare(const api_call& c) {
  vhost& v = c.vh();
  json body = parse_body(c.req);
  check_fields(body, {"durable", "auto_delete", "exclusive", "arguments", "vhost", "name", "node", "queue_type"});
  check_path_fields(c, body, "name");
  queue_options options;
  options.durable = bool_field(body, "durable", true) ? durability::durable : durability::transient;
  options.auto_delete = bool_field(body, "auto_delete", false);
  if (bool_field(body, "exclusive", false))
    bad_request("exclusive queues belong to an AMQP connection and cannot be declared over HTTP");
  options.arguments = queue_arguments_field(body, "queue_type");
  if (c.param("name").size() > 255) bad_request("queue name longer than 255 bytes");
  require_declare(c, v, "queue", c.param("name"), options.arguments);
  bool created = v.declare_queue(c.param("name"), options, false, admin_owner).created;
  return created ? admin::created() : no_content();
}

http_response remove(const api_call& c) {
  existing_queue(c);
  require(c, c.vh(), access::configure, "queue", c.param("name"));
  auto flag = [&](const char* key) {
    auto it = c.query.find(key);
    return it != c.query.end() && it->second == "true";
  };
  c.vh().delete_queue(c.param("name"), flag("if-unused"), flag("if-empty"), admin_owner);
  return no_content();
}

http_response purge(const api_call& c) {
  existing_queue(c);
  require(c, c.vh(), access::read, "queue", c.param("name"));
  c.vh().purge_queue(c.param("name"), admin_owner);
  return no_content();
}

// RabbitMQ's ackmodes: whether the messages taken stay in the queue.
bool requeue_for(const std::string& ackmode) {
  if (ackmode == "ack_requeue_true" || ackmode == "reject_requeue_true") return true;
  if (ackmode == "ack_requeue_false" || ackmode == "reject_requeue_false") return false;
  bad_request("ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true or reject_requeue_false");
}

json message_json(const queued_message& m, const queue& q, const std::string& encoding, std::int64_t truncate) {
  json out = content_json(*m.msg, encoding, truncate);
  out["redelivered"] = m.redelivered;
  out["message_count"] = q.ready_count();
  return out;
}

// Takes up to count messages from the head (those in memory: a head paged
// out to disk ends the batch), then acks or requeues them all, as RabbitMQ
// does with basic.get on a private channel.
http_response get(const api_call& c) {
  queue& q = existing_queue(c);
  json body = parse_body(c.req);
  check_fields(body, {"count", "ackmode", "encoding", "truncate", "vhost", "name", "queue", "payload_file"});
  check_path_fields(c, body, "name");
  if (body.contains("queue") && string_field(body, "queue", "") != c.param("name"))
    bad_request("queue in body does not match the path");
  std::int64_t count = int_field(body, "count", 1);
  if (count < 1 || count > 10000) bad_request("count must be between 1 and 10000");
  bool requeue = requeue_for(required_string(body, "ackmode"));
  std::string encoding = checked_encoding(string_field(body, "encoding", "auto"));
  std::int64_t truncate = int_field(body, "truncate", -1);
  require_get(c, c.vh(), q.name());
  c.vh().accessible_queue(q.name(), admin_owner);
  std::vector<queued_message> taken;
  json out = json::array();
  message_stats& totals = c.ctx.b.stats();
  for (std::int64_t i = 0; i < count; ++i) {
    std::optional<queued_message> m = q.take();
    if (!m) break;
    q.stats().add(message_event::get);
    totals.add(message_event::get);
    if (m->redelivered) {
      q.stats().add(message_event::redeliver);
      totals.add(message_event::redeliver);
    }
    out.push_back(message_json(*m, q, encoding, truncate));
    taken.push_back(std::move(*m));
  }
  for (queued_message& m : taken) {
    if (requeue) {
      q.requeue(std::move(m));
    } else {
      q.settle(m);
      q.stats().add(message_event::ack);
      totals.add(message_event::ack);
    }
  }
  if (requeue) q.dispatch();  // requeue() leaves delivery to the caller, once all are back
  else q.flush_writes();
  return json_response(out);
}

http_response bindings(const api_call& c) {
  vhost& v = c.vh();
  queue& q = existing_queue(c);
  json all = vhost_bindings(v);
  json items = json::array();
  for (auto& b : all)
    if (b["destination_type"] == "queue" && b["destination"] == q.name()) items.push_back(std::move(b));
  return list_response(c, std::move(items));
}

}  // namespace

void add_queue_routes(api_router& r) {
  r.add("GET", "/api/queues", list_all);
  r.add("GET", "/api/queues/:vhost", list_vhost);
  r.add("GET", "/api/queues/:vhost/:name", show);
  r.add("PUT", "/api/queues/:vhost/:name", declare);
  r.add("DELETE", "/api/queues/:vhost/:name", remove);
  r.add("DELETE", "/api/queues/:vhost/:name/contents", purge);
  r.add("POST", "/api/queues/:vhost/:name/get", get);
  r.add("GET", "/api/queues/:vhost/:name/bindings", bindings);
}

}  // namespace roost::admin
