// POST /api/queues/{vhost}/{name}/messages/delete and .../messages/move:
// taking chosen ready messages out of a queue, and for a move putting them
// into another queue or through an exchange (broker/repair/move_messages.hpp).
//
// The body chooses either by id, {"ids": ["17", ...]} (ids a browse
// showed), or by filter, {"filter": {...}, "max": 1000} (the browse's
// filter names, message_filter.hpp; {} is every message). A filter is
// applied page by page, each page's matches moved before the next page is
// read, so a deep queue is never read whole into memory. Unacked messages
// are not touched: they are counted as skipped.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/message_filter.hpp"
#include "admin-ui/queue_messages.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/repair/move_messages.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr std::uint64_t default_max = 1000;
constexpr std::uint64_t max_max = 1000000;
constexpr std::size_t page_matches = 1000;

struct selection {
  std::vector<std::uint64_t> ids;  // by id when the body has "ids"
  bool by_ids = false;
  message_filter filter;
  std::uint64_t max = default_max;
};

selection selection_from(const json& body) {
  selection s;
  if (body.contains("ids")) {
    if (body.contains("filter")) bad_request("give ids or a filter, not both");
    s.by_ids = true;
    s.ids = id_list(body["ids"], "ids must be a list of message ids, as a browse shows them");
    if (s.ids.size() > max_max) bad_request("ids must be at most 1000000 message ids");
    return s;
  }
  if (!body.contains("filter")) bad_request("give ids or a filter ({} for every message)");
  s.filter = filter_from_json(body["filter"]);
  std::int64_t max = int_field(body, "max", static_cast<std::int64_t>(default_max));
  if (max < 1 || static_cast<std::uint64_t>(max) > max_max) bad_request("max must be between 1 and 1000000");
  s.max = static_cast<std::uint64_t>(max);
  return s;
}

// Unacked messages the selection names: they stay, and the answer says so.
std::uint64_t unacked_selected(const api_call& c, const queue& q, const selection& s) {
  std::uint64_t n = 0;
  for (const unacked_view& u : unacked_of(c, q)) {
    bool named = s.by_ids ? std::find(s.ids.begin(), s.ids.end(), u.view.seq) != s.ids.end() : s.filter.matches(u.view);
    if (named) ++n;
  }
  return n;
}

struct repair_run {
  vhost* v = nullptr;
  storage_context* storage = nullptr;
  destination_of to;
  ready_match matches;
  std::uint64_t left = 0;  // messages still to move
  std::uint64_t from_position = 0;
  move_counts totals;
  std::uint64_t skipped_unacked = 0;
  std::uint64_t not_found = 0;  // ids not ready in the queue
  std::string verb;             // "deleted" or "moved"
  std::function<void(http_response)> done;

  void answer() {
    json out{{verb, totals.moved},
             {"skipped_unacked", skipped_unacked},
             {"skipped_gone", totals.gone + not_found},
             {"unroutable", totals.unroutable},
             {"refused", totals.refused}};
    done(json_response(out));
  }
};

// Reads the next page of matches from where the last one stopped, moves them, and goes on.
void next_page(const std::shared_ptr<repair_run>& run, queue& q) {
  browse_request request;
  request.from_position = run->from_position;
  request.limit = static_cast<std::size_t>(std::min<std::uint64_t>(run->left, page_matches));
  request.matches = run->matches;
  q.browse(std::move(request), [run](browse_page page) {
    if (page.source == nullptr) return run->answer();  // the queue was deleted meanwhile
    move_counts counts = move_ready(*run->v, *run->storage, *page.source, page.found, run->to);
    run->totals += counts;
    run->left -= std::min(run->left, counts.moved);
    // What was taken out was before next_position: the rest moved up by that much.
    run->from_position = page.next_position - std::min(page.next_position, counts.moved);
    if (page.at_end || run->left == 0) return run->answer();
    next_page(run, *page.source);
  });
}

http_response repair(const api_call& c, queue& q, const selection& s, move_destination to, std::string verb) {
  if (q.as_stream() != nullptr)
    bad_request("queue '" + q.name() + "' is a stream: its messages leave only by retention");
  auto run = std::make_shared<repair_run>();
  run->v = &c.vh();
  run->storage = &c.ctx.b.storage();
  run->to = [to = std::move(to)](const ready_view&) { return std::optional<move_destination>(to); };
  run->verb = std::move(verb);
  run->skipped_unacked = unacked_selected(c, q, s);
  http_response answer;
  // Runs before anything else on the broker thread (the server calls it at once): q is still there.
  answer.later = [q = &q, run, s](std::function<void(http_response)> done) {
    run->done = std::move(done);
    if (!s.by_ids) {
      run->left = s.max;
      run->matches = as_match(s.filter);
      return next_page(run, *q);
    }
    q->read_ready(s.ids, [run, asked = s.ids.size()](browse_page page) {
      if (page.source == nullptr) return run->answer();
      run->totals += (move_ready(*run->v, *run->storage, *page.source, page.found, run->to));
      run->not_found = asked - std::min<std::uint64_t>(asked, page.found.size() + run->skipped_unacked);
      run->answer();
    });
  };
  return answer;
}

http_response delete_messages(const api_call& c) {
  queue& q = existing_queue(c);
  json body = parse_body(c.req);
  check_fields(body, {"ids", "filter", "max"});
  selection s = selection_from(body);
  // Taking messages out is reading them, as queue.purge and basic.get are.
  require(c, c.vh(), access::read, "queue", q.name());
  return repair(c, q, s, move_destination{}, "deleted");
}

http_response move_messages(const api_call& c) {
  queue& q = existing_queue(c);
  json body = parse_body(c.req);
  check_fields(body, {"ids", "filter", "max", "queue", "exchange", "routing_key"});
  selection s = selection_from(body);
  vhost& v = c.vh();
  move_destination to;
  if (body.contains("queue") == body.contains("exchange")) bad_request("give a queue or an exchange to move to");
  if (body.contains("queue")) {
    std::string name = required_string(body, "queue");
    to.to_queue = v.find_queue(name);
    if (to.to_queue == nullptr) not_found("no queue '" + name + "' in vhost '" + v.name() + "'");
    if (to.to_queue == &q) bad_request("a queue's messages cannot be moved to itself");
    require(c, v, access::read, "queue", q.name());
    require(c, v, access::write, "queue", name);
  } else {
    std::string name = required_string(body, "exchange");
    to.to_exchange = v.find_exchange(name == "amq.default" ? "" : name);
    if (to.to_exchange == nullptr) not_found("no exchange '" + name + "' in vhost '" + v.name() + "'");
    to.routing_keys = {string_field(body, "routing_key", "")};
    require(c, v, access::read, "queue", q.name());
    require(c, v, access::write, "exchange", to.to_exchange->name());
  }
  return repair(c, q, s, std::move(to), "moved");
}

}  // namespace

void add_message_repair_routes(api_router& r) {
  r.add("POST", "/api/queues/:vhost/:name/messages/delete", delete_messages);
  r.add("POST", "/api/queues/:vhost/:name/messages/move", move_messages);
}

}  // namespace roost::admin
