// /api/queues: list, show, declare, delete, purge, get messages, browse a
// stream, and a queue's bindings. Declare, delete and purge go through the same vhost
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
#include "broker/stream/stream.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr owner_id admin_owner = 0;

queue& existing_queue(const api_call& c) {
  queue* q = c.vh().find_queue(c.param("name"));
  if (q == nullptr) not_found("no queue '" + c.param("name") + "' in vhost '" + c.param("vhost") + "'");
  return *q;
}

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

std::string checked_encoding(std::string encoding) {
  if (encoding != "auto" && encoding != "base64") bad_request("encoding must be auto or base64");
  return encoding;
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

// Reads a stream without a consumer: up to `limit` messages (1 to 1,000,
// default 100) from `offset` (default: the first kept) or from the first
// appended at or after `from_time` (milliseconds since the Unix epoch),
// from memory or from the store, never changing the stream. `next_offset`
// continues where the page ended.
http_response browse(const api_call& c) {
  queue& q = existing_queue(c);
  stream* s = q.as_stream();
  if (s == nullptr)
    bad_request("queue '" + q.name() + "' is not a stream: browsing is for streams (POST .../get reads a queue)");
  std::optional<std::uint64_t> offset = query_number(c.query, "offset");
  std::optional<std::uint64_t> from_time = query_number(c.query, "from_time");
  if (offset && from_time) bad_request("give offset or from_time, not both");
  std::uint64_t limit = query_number(c.query, "limit").value_or(100);
  if (limit < 1 || limit > 1000) bad_request("limit must be between 1 and 1000");
  auto asked = c.query.find("encoding");
  std::string encoding = checked_encoding(asked == c.query.end() ? "auto" : asked->second);
  auto truncate = static_cast<std::int64_t>(query_number(c.query, "truncate").value_or(50000));
  require_get(c, c.vh(), q.name());
  std::uint64_t from = s->log().first_offset();
  std::int64_t not_before_ms = 0;
  if (offset) from = *offset;
  if (from_time) {
    not_before_ms = static_cast<std::int64_t>(std::min<std::uint64_t>(*from_time, INT64_MAX));
    from = s->log().resolve(stream_start{stream_start::kind::timestamp_ms, 0, not_before_ms});
  }
  http_response answer;
  // Runs before anything else on the broker thread (the server calls it at once): s is still there.
  answer.later = [s, from, not_before_ms, limit, encoding, truncate](std::function<void(http_response)> done) {
    s->browse(from, not_before_ms, limit, [done, from, encoding, truncate](std::vector<stream_record> records) {
      json messages = json::array();
      std::uint64_t next = from;
      try {
        for (const stream_record& r : records) {
          json m = content_json(*r.msg, encoding, truncate);
          m["offset"] = r.offset;
          m["appended_at"] = r.appended_at_ms;
          messages.push_back(std::move(m));
          next = r.offset + 1;
        }
        done(json_response(json{{"next_offset", next}, {"messages", std::move(messages)}}));
      } catch (const std::exception& e) {
        done(error_body(500, "internal_error", std::string("could not show the stream's messages: ") + e.what()));
      }
    });
  };
  return answer;
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
  r.add("GET", "/api/queues/:vhost/:name/messages", browse);
  r.add("GET", "/api/queues/:vhost/:name/bindings", bindings);
}

}  // namespace roost::admin
