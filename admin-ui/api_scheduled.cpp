// /api/scheduled: the messages delaying exchanges hold back (the x-delay
// schedule, broker/delay/delayed_delivery.hpp), which RabbitMQ's
// delayed-message plugin cannot show or change.
//
// GET /api/scheduled/{vhost}[/{exchange}] lists them by due time (offset,
// limit, encoding, truncate and the browse's filters, message_filter.hpp),
// with a summary of the whole scope: pending messages per exchange and how
// many fall due within a minute, an hour and a day. POST
// /api/scheduled/{vhost}/cancel, /reschedule (due_at in ms since the epoch,
// or delay in ms from now) and /release (due now) act on the messages
// chosen by {"ids": [...]} or {"filter": {...}}, optionally within
// {"exchange": name}; each changes only messages of exchanges the caller
// may write to, and the store's copy with the schedule.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/message_filter.hpp"
#include "admin-ui/queue_messages.hpp"
#include "broker/delay/delayed_delivery.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

using nlohmann::json;
using pending = delayed_delivery::pending_message;

namespace {

constexpr std::int64_t minute_ms = 60 * 1000;

ready_view view_of(const pending& p) { return ready_view{p.id, 0, p.msg, false, 0, 0}; }

json pending_json(vhost& v, const pending& p, const page_options& o) {
  json m = content_or_error_json(*p.msg, o);
  m["id"] = std::to_string(p.id);
  m["due_at"] = p.due_ms;
  json queues = json::array();
  for (std::uint32_t id : p.queue_ids)
    if (const queue* q = v.queue_by_id(id)) queues.push_back(q->name());
  m["queues"] = std::move(queues);
  return m;
}

// The exchange a request is limited to: the path's, or none (the whole vhost).
const std::string* scope_of(const api_call& c) {
  auto it = c.params.find("exchange");
  return it == c.params.end() ? nullptr : &it->second;
}

http_response list(const api_call& c) {
  vhost& v = c.vh();
  const std::string* scope = scope_of(c);
  std::string exchange = scope == nullptr ? "" : (*scope == "amq.default" ? "" : *scope);
  if (scope != nullptr && v.find_exchange(exchange) == nullptr)
    not_found("no exchange '" + *scope + "' in vhost '" + v.name() + "'");
  std::uint64_t offset = query_number(c.query, "offset").value_or(0);
  page_options o = page_options_from(c.query);
  message_filter filter = filter_from_query(c.query, {"offset", "limit", "encoding", "truncate"});

  struct due_item {
    std::int64_t due_ms;
    std::uint64_t id;
  };
  std::vector<due_item> matching;
  std::map<std::string, std::pair<std::uint64_t, std::int64_t>> by_exchange;  // name → (messages, next due)
  std::int64_t now = delayed_delivery::now_ms();
  std::uint64_t within[3] = {0, 0, 0};
  const std::int64_t horizons[3] = {minute_ms, 60 * minute_ms, 24 * 60 * minute_ms};
  v.delays().list([&](const pending& p) {
    if (scope != nullptr && p.msg->exchange != exchange) return;
    auto& [n, next] = by_exchange.try_emplace(p.msg->exchange, 0, p.due_ms).first->second;
    ++n;
    next = std::min(next, p.due_ms);
    for (int i = 0; i < 3; ++i)
      if (p.due_ms - now <= horizons[i]) ++within[i];
    if (filter.empty() || filter.matches(view_of(p))) matching.push_back({p.due_ms, p.id});
  });
  auto earlier = [](const due_item& a, const due_item& b) { return a.due_ms != b.due_ms ? a.due_ms < b.due_ms : a.id < b.id; };
  std::size_t end = static_cast<std::size_t>(std::min<std::uint64_t>(matching.size(), offset + o.limit));
  std::size_t begin = static_cast<std::size_t>(std::min<std::uint64_t>(matching.size(), offset));
  std::partial_sort(matching.begin(), matching.begin() + static_cast<std::ptrdiff_t>(end), matching.end(), earlier);
  std::map<std::uint64_t, std::size_t> page_ids;  // id → place in the page
  for (std::size_t i = begin; i < end; ++i) page_ids[matching[i].id] = i - begin;
  json messages = json::array();
  for (std::size_t i = begin; i < end; ++i) messages.push_back(nullptr);
  v.delays().list([&](const pending& p) {
    auto it = page_ids.find(p.id);
    if (it != page_ids.end()) messages[it->second] = pending_json(v, p, o);
  });
  json exchanges = json::array();
  for (const auto& [name, counts] : by_exchange)
    exchanges.push_back(json{{"exchange", name}, {"messages", counts.first}, {"next_due_at", counts.second}});
  return json_response(json{{"messages", std::move(messages)},
                            {"total", matching.size()},
                            {"next_offset", end},
                            {"by_exchange", std::move(exchanges)},
                            {"due_within", {{"minute", within[0]}, {"hour", within[1]}, {"day", within[2]}}}});
}

// What a change applies to: the ids or filter of the body, within its exchange, writable by the caller.
delayed_delivery::pending_pick pick_of(const api_call& c, const json& body) {
  if (body.contains("ids") == body.contains("filter")) bad_request("give ids or a filter ({} for every message)");
  std::vector<std::uint64_t> ids;
  message_filter filter;
  if (body.contains("ids")) {
    ids = id_list(body["ids"], "ids must be a list of scheduled message ids, as the list shows them");
    std::sort(ids.begin(), ids.end());
  } else {
    filter = filter_from_json(body["filter"]);
  }
  std::optional<std::string> exchange;
  if (body.contains("exchange")) {
    std::string name = required_string(body, "exchange");
    exchange = name == "amq.default" ? "" : name;
  }
  std::string vhost = c.vh().name();
  return [ids = std::move(ids), filter = std::move(filter), exchange, by_id = body.contains("ids"), vhost,
          &access = c.ctx.b.access(), user = c.user](const pending& p) {
    if (exchange && p.msg->exchange != *exchange) return false;
    if (by_id ? !std::binary_search(ids.begin(), ids.end(), p.id) : !filter.matches(view_of(p))) return false;
    return user.is_operator() || access.allows(user.name, vhost, access::write, p.msg->exchange);
  };
}

http_response cancel(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"ids", "filter", "exchange"});
  return json_response(json{{"cancelled", c.vh().delays().cancel(pick_of(c, body))}});
}

http_response reschedule(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"ids", "filter", "exchange", "due_at", "delay"});
  if (body.contains("due_at") == body.contains("delay")) bad_request("give due_at (ms since the epoch) or delay (ms)");
  std::int64_t due = body.contains("due_at") ? int_field(body, "due_at", 0)
                                              : delayed_delivery::now_ms() + int_field(body, "delay", 0);
  if (due < 0) bad_request("due_at and delay must not be negative");
  return json_response(json{{"rescheduled", c.vh().delays().reschedule(pick_of(c, body), due)}});
}

http_response release(const api_call& c) {
  json body = parse_body(c.req);
  check_fields(body, {"ids", "filter", "exchange"});
  return json_response(json{{"released", c.vh().delays().reschedule(pick_of(c, body), delayed_delivery::now_ms())}});
}

}  // namespace

void add_scheduled_routes(api_router& r) {
  r.add("GET", "/api/scheduled/:vhost", list);
  r.add("GET", "/api/scheduled/:vhost/:exchange", list);
  r.add("POST", "/api/scheduled/:vhost/cancel", cancel);
  r.add("POST", "/api/scheduled/:vhost/reschedule", reschedule);
  r.add("POST", "/api/scheduled/:vhost/release", release);
}

}  // namespace roost::admin
