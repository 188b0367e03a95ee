// Multi-request commands on connections, queues, definitions and the
// broker's status: see multi_step.hpp.
#include "ctl/multi_step.hpp"
#include "net/local_socket.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

std::string text_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string directory_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void listeners_section(std::string& out, const json& overview) {
  out += "\nListeners\n\n";
  for (const json& l : overview.value("listeners", json::array())) {
    std::string protocol = text_of(l.value("protocol", json()));
    std::string purpose = protocol == "amqp" ? "AMQP 0-9-1" : protocol == "http" ? "HTTP API" : protocol;
    out += "Interface: " + text_of(l.value("ip_address", json())) + ", port: " + text_of(l.value("port", json())) +
           ", protocol: " + protocol + ", purpose: " + purpose + "\n";
  }
}

}  // namespace

void run_close_connection(command_context& ctx) {
  api_request r = request("DELETE", "/api/connections/" + percent_encode(ctx.arg(0)));
  r.headers.emplace_back("X-Reason", ctx.arg(1));
  ctx.call(r);
}

void run_delete_queue(command_context& ctx) {
  const invocation& inv = ctx.inv;
  std::string conditions = inv.if_empty ? " if queue is empty" : "";
  if (inv.if_unused) conditions += (conditions.empty() ? " " : " and ") + std::string("if queue is unused");
  ctx.info("Deleting queue '" + ctx.arg(0) + "' on vhost '" + inv.vh() + "'" + conditions + " ...");
  std::string path = "/api/queues/" + percent_encode(inv.vh()) + "/" + percent_encode(ctx.arg(0));
  json queue = ctx.call(request("GET", path));
  // rabbitmqctl's refusals; the broker checks again (with the query) in case the queue changed meanwhile.
  if (inv.if_unused && queue.value("consumers", 0) > 0) command_failed(exit_code::usage, "Queue is in use");
  if (inv.if_empty && queue.value("messages_ready", 0) > 0) command_failed(exit_code::usage, "Queue is not empty");
  std::string query;
  if (inv.if_empty) query += "if-empty=true";
  if (inv.if_unused) query += (query.empty() ? "" : "&") + std::string("if-unused=true");
  ctx.call(request("DELETE", path + (query.empty() ? "" : "?" + query)));
  // Printed even with -q and -s, as rabbitmqctl does.
  ctx.out += "Queue was successfully deleted with " + text_of(queue.value("messages_ready", json(0))) +
             " ready messages\n";
}

void check_export_path(const invocation& inv, environment& env) {
  const std::string& path = inv.args.at(0);
  if (path != "-" && !env.exists(directory_of(path)))
    bad_file_argument("Directory " + directory_of(path) + " does not exist");
}

void run_export_definitions(command_context& ctx) {
  const std::string& path = ctx.arg(0);
  json definitions = ctx.call(request("GET", "/api/definitions"));
  std::string text = definitions.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (path == "-") {  // the JSON alone, without the informational line (as rabbitmqctl)
    ctx.out += text;
    return;
  }
  ctx.info("Exporting definitions in JSON to a file at \"" + path + "\" ...");
  ctx.env.write_file(path, text);
}

void check_import_path(const invocation& inv, environment& env) {
  const std::string& path = inv.args.at(0);
  if (path != "-" && !env.exists(path)) bad_file_argument("File " + path + " does not exist");
}

void run_import_definitions(command_context& ctx) {
  const std::string& path = ctx.arg(0);
  ctx.info(path == "-" ? std::string("Importing definitions in JSON from standard input ...")
                       : "Importing definitions in JSON from a file at \"" + path + "\" ...");
  std::string text = ctx.env.read_file(path);
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    command_failed(exit_code::data, "Failed to deserialise input (format: JSON): not a JSON object");
  ctx.call(request("POST", "/api/definitions", text));
}

void run_status(command_context& ctx) {
  json overview = ctx.call(request("GET", "/api/overview"));
  api_reply alarms = ctx.call_any(request("GET", "/api/health/checks/alarms"));
  json vhosts = ctx.call(request("GET", "/api/vhosts"));
  std::string node = text_of(overview.value("node", json()));
  ctx.info("Status of node " + node + " ...");
  std::string& out = ctx.out;
  out += "Runtime\n\n";
  out += "Product name: " + text_of(overview.value("product_name", json("Roost"))) + "\n";
  out += "Product version: " + text_of(overview.value("product_version", json())) + "\n";
  out += "RabbitMQ version: " + text_of(overview.value("rabbitmq_version", json())) +
         " (the management API Roost follows)\n";
  out += "Node name: " + node + "\n";
  out += "Uptime (seconds): " + std::to_string(overview.value("uptime_ms", std::int64_t{0}) / 1000) + "\n";
  out += "\nData directory\n\n";
  out += "Data directory: " + ctx.inv.data_dir + "\n";
  out += "Control socket: " + net::control_socket_path(ctx.inv.data_dir) + "\n";
  out += "\nAlarms\n\n";
  if (alarms.status == 200) {
    out += "(none)\n";
  } else {
    json body = json::parse(alarms.body, nullptr, false);
    out += (body.is_object() ? text_of(body.value("reason", json(alarms.body))) : alarms.body) + "\n";
  }
  const json totals = overview.value("object_totals", json::object());
  out += "\nTotals\n\n";
  out += "Connection count: " + text_of(totals.value("connections", json(0))) + "\n";
  out += "Queue count: " + text_of(totals.value("queues", json(0))) + "\n";
  out += "Virtual host count: " + std::to_string(vhosts.is_array() ? vhosts.size() : 0) + "\n";
  listeners_section(out, overview);
}

}  // namespace roost::ctl
