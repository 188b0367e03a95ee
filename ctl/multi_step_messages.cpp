// Inspecting and repairing a queue's messages (Roost's, no rabbitmqctl
// counterpart): list_messages, delete_messages and move_messages over
// GET .../messages and POST .../messages/delete and /move; redrive and
// redrive_status over POST and GET .../redrive; list_scheduled and
// cancel_scheduled over /api/scheduled. Arguments after
// the queue (and the target queue) are either message ids, as
// list_messages prints them, or conditions name=value, which are the
// browse's query parameters and filters (admin-ui/message_filter.hpp);
// max=N caps a delete or move by conditions.
#include <algorithm>

#include "ctl/multi_step.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

// The path of the first argument's queue, with what follows it.
std::string queue_path(const command_context& ctx, std::string_view rest) {
  return "/api/queues/" + percent_encode(ctx.inv.vh()) + "/" + percent_encode(ctx.arg(0)) + std::string(rest);
}

std::string messages_path(const command_context& ctx) { return queue_path(ctx, "/messages"); }

// A condition name=value as a query parameter ("&name=value", or "?" first).
void add_condition(std::string& query, const std::string& arg) {
  std::size_t eq = arg.find('=');
  if (eq == std::string::npos) usage_error("'" + arg + "' is not a condition name=value");
  query += (query.empty() ? "?" : "&") + percent_encode(arg.substr(0, eq)) + "=" + percent_encode(arg.substr(eq + 1));
}

// The selection in a delete, move or cancel body: ids, or a filter of
// conditions; the conditions named in `body_keys` (max, exchange) go into
// the body itself, max as a number.
json selection_body(const command_context& ctx, std::size_t first, std::initializer_list<std::string_view> body_keys) {
  json ids = json::array();
  json filter = json::object();
  json body = json::object();
  for (std::size_t i = first; i < ctx.inv.args.size(); ++i) {
    const std::string& a = ctx.arg(i);
    std::size_t eq = a.find('=');
    std::string name = eq == std::string::npos ? "" : a.substr(0, eq);
    if (eq == std::string::npos) {
      if (a.empty() || !std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; }))
        usage_error("'" + a + "' is neither a message id nor a condition name=value");
      ids.push_back(a);
    } else if (std::find(body_keys.begin(), body_keys.end(), name) != body_keys.end()) {
      body[name] = name == "max" ? parse_json_argument(a.substr(eq + 1)) : json(a.substr(eq + 1));
    } else {
      filter[name] = a.substr(eq + 1);
    }
  }
  if (!ids.empty() && (!filter.empty() || body.contains("max"))) usage_error("give message ids or conditions, not both");
  if (ids.empty() && filter.empty() && body.empty())
    usage_error("give message ids or conditions (name=value) choosing the messages");
  if (ids.empty()) body["filter"] = filter;
  else body["ids"] = ids;
  return body;
}

void print_counts(command_context& ctx, const json& counts, const std::string& verb, const std::string& done) {
  if (!counts.is_object()) command_failed(exit_code::software, "the broker's answer is not a count of messages");
  ctx.out += verb + " " + counts.value(done, json(0)).dump() + " messages; skipped " +
             counts.value("skipped_unacked", json(0)).dump() + " unacked, " +
             counts.value("skipped_gone", json(0)).dump() + " no longer in the queue";
  if (done == "moved")
    ctx.out += ", " + counts.value("refused", json(0)).dump() + " refused by the target";
  ctx.out += "\n";
}

}  // namespace

void run_list_messages(command_context& ctx) {
  ctx.info("Listing messages of queue '" + ctx.arg(0) + "' in vhost '" + ctx.inv.vh() + "' ...");
  std::string query;
  for (std::size_t i = 1; i < ctx.inv.args.size(); ++i) add_condition(query, ctx.arg(i));
  json page = ctx.call(request("GET", messages_path(ctx) + query));
  if (!page.is_object()) command_failed(exit_code::software, "the broker's answer is not a page of messages");
  bool headers = ctx.inv.table_headers && ctx.inv.level != verbosity::silent;
  ctx.out += format_table(select_columns(*ctx.v.table, {}), page.value("messages", json::array()), headers);
  if (!page.value("at_end", true)) ctx.info("... more from offset=" + page.value("next_offset", json(0)).dump());
}

void run_delete_messages(command_context& ctx) {
  json body = selection_body(ctx, 1, {"max"});
  ctx.info("Deleting messages of queue '" + ctx.arg(0) + "' in vhost '" + ctx.inv.vh() + "' ...");
  print_counts(ctx, ctx.call(request("POST", messages_path(ctx) + "/delete", body.dump())), "Deleted", "deleted");
}

void run_move_messages(command_context& ctx) {
  json body = selection_body(ctx, 2, {"max"});
  body["queue"] = ctx.arg(1);
  ctx.info("Moving messages of queue '" + ctx.arg(0) + "' to queue '" + ctx.arg(1) + "' in vhost '" + ctx.inv.vh() +
           "' ...");
  print_counts(ctx, ctx.call(request("POST", messages_path(ctx) + "/move", body.dump())), "Moved", "moved");
}

void run_list_scheduled(command_context& ctx) {
  std::string path = "/api/scheduled/" + percent_encode(ctx.inv.vh());
  std::string query;
  for (std::size_t i = 0; i < ctx.inv.args.size(); ++i) {
    const std::string& a = ctx.arg(i);
    if (i == 0 && a.find('=') == std::string::npos) path += "/" + percent_encode(a);  // the delaying exchange
    else add_condition(query, a);
  }
  ctx.info("Listing scheduled messages in vhost '" + ctx.inv.vh() + "' ...");
  json page = ctx.call(request("GET", path + query));
  if (!page.is_object()) command_failed(exit_code::software, "the broker's answer is not a page of messages");
  bool headers = ctx.inv.table_headers && ctx.inv.level != verbosity::silent;
  ctx.out += format_table(select_columns(*ctx.v.table, {}), page.value("messages", json::array()), headers);
}

void run_cancel_scheduled(command_context& ctx) {
  json body = selection_body(ctx, 0, {"exchange"});
  ctx.info("Cancelling scheduled messages in vhost '" + ctx.inv.vh() + "' ...");
  json done = ctx.call(request("POST", "/api/scheduled/" + percent_encode(ctx.inv.vh()) + "/cancel", body.dump()));
  ctx.out += "Cancelled " + (done.is_object() ? done.value("cancelled", json(0)).dump() : std::string("0")) +
             " scheduled messages\n";
}

void run_redrive(command_context& ctx) {
  json body = json::object();
  for (std::size_t i = 1; i < ctx.inv.args.size(); ++i) {
    const std::string& a = ctx.arg(i);
    std::size_t eq = a.find('=');
    if (eq == std::string::npos) usage_error("'" + a + "' is not an option name=value");
    std::string name = a.substr(0, eq);
    std::string value = a.substr(eq + 1);
    bool number = name == "max" || name == "max_rate";
    body[name] = number ? parse_json_argument(value) : json(value);
  }
  std::string path = queue_path(ctx, "/redrive");
  ctx.info("Redriving dead-lettered messages of queue '" + ctx.arg(0) + "' in vhost '" + ctx.inv.vh() + "' ...");
  json run = ctx.call(request("POST", path, body.dump()));
  ctx.out += "Redrive " + (run.is_object() ? run.value("state", std::string("started")) : std::string("started")) +
             "; roostctl redrive_status " + ctx.arg(0) + " shows its progress\n";
}

void run_redrive_status(command_context& ctx) {
  json status = ctx.call(request("GET", queue_path(ctx, "/redrive")));
  if (!status.is_object()) command_failed(exit_code::software, "the broker's answer is not a redrive status");
  const json run = status.value("run", json());
  if (run.is_object())
    ctx.out += "Last redrive: " + run.value("state", std::string()) + ", moved " + run.value("moved", json(0)).dump() +
               ", unroutable " + run.value("unroutable", json(0)).dump() + ", refused " +
               run.value("refused", json(0)).dump() + "\n";
  else
    ctx.out += "No redrive yet\n";
  ctx.out += "Dead-lettered messages: " + status.value("dead_lettered", json(0)).dump() +
             (status.value("complete", true) ? "" : " (in the first 10000 ready messages)") + "\n";
  bool headers = ctx.inv.table_headers && ctx.inv.level != verbosity::silent;
  ctx.out += format_table(select_columns(*ctx.v.table, {}), status.value("origins", json::array()), headers);
}

}  // namespace roost::ctl
