// /api/queues/{vhost}/{name}/redrive: sending a queue's dead-lettered
// messages back where they died (broker/repair/redrive.hpp).
//
// GET shows the queue's latest run (progress while it runs, final counts
// after) and what the queue holds to redrive: its dead-lettered ready
// messages grouped by where they died and why, read from the first 10,000
// ready messages (`complete` says whether that was all). POST starts a run,
// DELETE cancels the running one.
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/dead_letter/x_death.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr std::size_t summary_scan = 10000;

json run_json(const redrive_run& run) {
  const redrive_progress& p = run.progress();
  const redrive_request& r = run.request();
  json out{{"state", state_name(p.state)},
           {"moved", p.counts.moved},
           {"skipped_gone", p.counts.gone},
           {"unroutable", p.counts.unroutable},
           {"refused", p.counts.refused},
           {"started_at", p.started_at_ms},
           {"finished_at", p.finished_at_ms == 0 ? json(nullptr) : json(p.finished_at_ms)},
           {"max", r.max == UINT64_MAX ? json(nullptr) : json(r.max)},
           {"max_rate", r.max_rate == 0 ? json(nullptr) : json(r.max_rate)},
           {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
           {"origin_queue", r.origin_queue.empty() ? json(nullptr) : json(r.origin_queue)}};
  if (r.chosen_target) {
    if (!r.to_queue.empty()) out["queue"] = r.to_queue;
    else out["exchange"] = r.to_exchange, out["routing_key"] = r.to_routing_key;
  }
  return out;
}

// (queue, reason, exchange) → messages, for the dead-lettered ones among those read.
using origin_counts = std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t>;

http_response show(const api_call& c) {
  queue& q = existing_queue(c);
  require(c, c.vh(), access::read, "queue", q.name());
  std::shared_ptr<redrive_run> run = c.ctx.b.redrives().find(c.vh().name(), q.name());
  json run_part = run ? run_json(*run) : json(nullptr);
  auto counts = std::make_shared<origin_counts>();
  browse_request read;
  read.limit = summary_scan;
  read.scan_limit = summary_scan;
  // Counts as it reads and keeps nothing: the summary holds no messages.
  read.matches = [counts](const ready_view& m) {
    if (std::optional<last_death> d = last_death_of(*m.msg)) ++(*counts)[{d->queue, d->reason, d->exchange}];
    return false;
  };
  http_response answer;
  // Runs before anything else on the broker thread (the server calls it at once): q is still there.
  answer.later = [q = &q, read, counts, run_part](std::function<void(http_response)> done) {
    q->browse(read, [counts, run_part, done](browse_page page) {
      json origins = json::array();
      std::uint64_t total = 0;
      for (const auto& [key, n] : *counts) {
        const auto& [queue, reason, exchange] = key;
        origins.push_back(json{{"queue", queue}, {"reason", reason}, {"exchange", exchange}, {"messages", n}});
        total += n;
      }
      done(json_response(json{{"run", run_part},
                              {"dead_lettered", total},
                              {"origins", std::move(origins)},
                              {"complete", page.at_end}}));
    });
  };
  return answer;
}

http_response start(const api_call& c) {
  queue& q = existing_queue(c);
  vhost& v = c.vh();
  json body = parse_body(c.req);
  check_fields(body, {"reason", "origin_queue", "queue", "exchange", "routing_key", "max", "max_rate"});
  if (q.as_stream() != nullptr) bad_request("queue '" + q.name() + "' is a stream: its messages leave only by retention");
  redrive_request r;
  r.reason = string_field(body, "reason", "");
  r.origin_queue = string_field(body, "origin_queue", "");
  std::int64_t max = int_field(body, "max", -1);
  if (body.contains("max") && max < 1) bad_request("max must be a positive integer");
  if (max > 0) r.max = static_cast<std::uint64_t>(max);
  std::int64_t max_rate = int_field(body, "max_rate", 0);
  if (max_rate < 0) bad_request("max_rate must be a positive integer (messages a second)");
  r.max_rate = static_cast<std::uint64_t>(max_rate);
  require(c, v, access::read, "queue", q.name());
  if (body.contains("queue") && body.contains("exchange")) bad_request("give a queue or an exchange, not both");
  if (body.contains("queue")) {
    r.to_queue = required_string(body, "queue");
    if (v.find_queue(r.to_queue) == nullptr) not_found("no queue '" + r.to_queue + "' in vhost '" + v.name() + "'");
    if (r.to_queue == q.name()) bad_request("a queue's messages cannot be redriven to itself");
    require(c, v, access::write, "queue", r.to_queue);
    r.chosen_target = true;
  } else if (body.contains("exchange")) {
    std::string name = required_string(body, "exchange");
    r.to_exchange = name == "amq.default" ? "" : name;
    if (v.find_exchange(r.to_exchange) == nullptr) not_found("no exchange '" + name + "' in vhost '" + v.name() + "'");
    r.to_routing_key = string_field(body, "routing_key", "");
    require(c, v, access::write, "exchange", r.to_exchange);
    r.chosen_target = true;
  }
  // Each message's origin exchange is checked as it is reached, against the caller's permissions then.
  r.may_write = [&access = c.ctx.b.access(), user = c.user, vhost = v.name()](const std::string& exchange) {
    return user.is_operator() || access.allows(user.name, vhost, access::write, exchange);
  };
  if (!c.ctx.b.redrives().start(c.ctx.b, v.name(), q, std::move(r)))
    bad_request("a redrive of queue '" + q.name() + "' is running: DELETE .../redrive cancels it");
  return json_response(run_json(*c.ctx.b.redrives().find(v.name(), q.name())));
}

http_response cancel(const api_call& c) {
  queue& q = existing_queue(c);
  require(c, c.vh(), access::read, "queue", q.name());
  std::shared_ptr<redrive_run> run = c.ctx.b.redrives().find(c.vh().name(), q.name());
  if (!run || run->progress().state != redrive_state::running)
    not_found("no redrive of queue '" + q.name() + "' is running");
  run->cancel();
  return no_content();
}

}  // namespace

void add_redrive_routes(api_router& r) {
  r.add("GET", "/api/queues/:vhost/:name/redrive", show);
  r.add("POST", "/api/queues/:vhost/:name/redrive", start);
  r.add("DELETE", "/api/queues/:vhost/:name/redrive", cancel);
}

}  // namespace roost::admin
