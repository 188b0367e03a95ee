// GET /api/queues/{vhost}/{name}/messages: reading a queue's messages
// without changing anything. A stream is read by offset or time; a queue by
// position, its unacked messages (held by channels) first and then its
// ready ones in delivery order, filtered (message_filter.hpp). Each page
// does bounded work (`scan_limit` messages looked at), so a filter that
// matches little over a deep queue is paged through, never read whole in
// one request; `next_offset` continues where a page stopped.
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/message_filter.hpp"
#include "admin-ui/message_json.hpp"
#include "admin-ui/queue_messages.hpp"
#include "broker/model/vhost.hpp"
#include "broker/stream/stream.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

// Reads a stream without a consumer: up to `limit` messages from `offset`
// (default: the first kept) or from the first appended at or after
// `from_time` (milliseconds since the Unix epoch), from memory or from the
// store.
http_response browse_stream(const api_call& c, stream& s, const page_options& o) {
  std::optional<std::uint64_t> offset = query_number(c.query, "offset");
  std::optional<std::uint64_t> from_time = query_number(c.query, "from_time");
  if (offset && from_time) bad_request("give offset or from_time, not both");
  std::uint64_t from = s.log().first_offset();
  std::int64_t not_before_ms = 0;
  if (offset) from = *offset;
  if (from_time) {
    not_before_ms = static_cast<std::int64_t>(std::min<std::uint64_t>(*from_time, INT64_MAX));
    from = s.log().resolve(stream_start{stream_start::kind::timestamp_ms, 0, not_before_ms});
  }
  http_response answer;
  // Runs before anything else on the broker thread (the server calls it at once): s is still there.
  answer.later = [s = &s, from, not_before_ms, o](std::function<void(http_response)> done) {
    s->browse(from, not_before_ms, o.limit, [done, from, o](std::vector<stream_record> records) {
      json messages = json::array();
      std::uint64_t next = from;
      try {
        for (const stream_record& r : records) {
          json m = content_json(*r.msg, o.encoding, o.truncate);
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

json page_json(json messages, std::uint64_t next_offset, bool at_end) {
  return json{{"messages", std::move(messages)}, {"next_offset", next_offset}, {"at_end", at_end}};
}

http_response browse_queue(const api_call& c, queue& q, const page_options& o) {
  auto state_asked = c.query.find("state");
  std::string state = state_asked == c.query.end() ? "all" : state_asked->second;
  if (state != "ready" && state != "unacked" && state != "all") bad_request("state must be ready, unacked or all");
  std::uint64_t offset = query_number(c.query, "offset").value_or(0);
  std::uint64_t scan_limit = query_number(c.query, "scan_limit").value_or(10000);
  if (scan_limit < 1 || scan_limit > 100000) bad_request("scan_limit must be between 1 and 100000");
  message_filter filter =
      filter_from_query(c.query, {"offset", "limit", "state", "encoding", "truncate", "scan_limit"});
  json messages = json::array();
  std::uint64_t scanned = 0;
  std::uint64_t unacked_count = 0;  // positions of ready messages come after the unacked ones
  if (state != "ready") {
    std::vector<unacked_view> unacked = unacked_of(c, q);
    unacked_count = unacked.size();
    std::uint64_t i = offset;
    for (; i < unacked.size() && messages.size() < o.limit && scanned < scan_limit; ++i, ++scanned)
      if (filter.matches(unacked[i].view)) messages.push_back(unacked_json(unacked[i], i, o));
    bool full = messages.size() >= o.limit || scanned >= scan_limit;
    if (state == "unacked" || (full && i < unacked.size()))
      return json_response(page_json(std::move(messages), i, i >= unacked.size() && state == "unacked"));
  }
  browse_request request;
  request.from_position = offset > unacked_count ? offset - unacked_count : 0;
  request.limit = o.limit - messages.size();
  request.scan_limit = scan_limit - scanned;
  request.matches = as_match(std::move(filter));
  if (request.limit == 0 || request.scan_limit == 0)
    return json_response(page_json(std::move(messages), unacked_count + request.from_position, false));
  http_response answer;
  // Runs before anything else on the broker thread (the server calls it at once): q is still there.
  answer.later = [q = &q, request, messages, unacked_count, o](std::function<void(http_response)> done) mutable {
    q->browse(std::move(request), [done, messages, unacked_count, o](browse_page page) mutable {
      for (const ready_view& v : page.found)
        messages.push_back(ready_json(v, unacked_count + v.position, o));
      done(json_response(page_json(std::move(messages), unacked_count + page.next_position, page.at_end)));
    });
  };
  return answer;
}

http_response browse(const api_call& c) {
  queue& q = existing_queue(c);
  page_options o = page_options_from(c.query);
  require_get(c, c.vh(), q.name());
  if (stream* s = q.as_stream()) return browse_stream(c, *s, o);
  return browse_queue(c, q, o);
}

}  // namespace

void add_queue_message_routes(api_router& r) {
  r.add("GET", "/api/queues/:vhost/:name/messages", browse);
}

}  // namespace roost::admin
