// Running a command line: help, argument checks, the one request of a
// simple command or the run function of a multi-step one, and every error
// turned into text and an exit code. See verbs.hpp.
#include "ctl/verbs.hpp"

#include <cstdio>

namespace roost::ctl {

using nlohmann::json;

namespace {

constexpr std::string_view global_usage =
    "roostctl [--data-dir <dir>] [-q|--quiet] [-s|--silent] [-t|--timeout <seconds>] [--no-table-headers]";

std::string usage_line(const verb& v) {
  return std::string(global_usage) + " " + std::string(v.name) + (v.usage.empty() ? "" : " ") + std::string(v.usage);
}

std::string general_help() {
  std::string out = "\nUsage\n\n" + std::string(global_usage) + " <command> [<command options>]\n\n";
  out +=
      "roostctl is the operator's tool on the broker's host: it talks to the roost broker\n"
      "running on --data-dir (default ./data, as roost's) through the control socket\n"
      "<data dir>/roost.ctl. Whoever may open that socket (mode 0600: the broker's user,\n"
      "and root) is the operator; no password is asked.\n\n"
      "Available commands:\n";
  std::string_view group;
  for (const verb& v : verbs()) {
    if (v.group != group) {
      group = v.group;
      out += "\n" + std::string(group) + ":\n\n";
    }
    char line[256];
    std::snprintf(line, sizeof line, "   %-29s %s\n", std::string(v.name).c_str(), std::string(v.summary).c_str());
    out += line;
  }
  return out + "\nUse 'roostctl help <command>' to learn more about a specific command\n";
}

std::string verb_help(const verb& v) {
  std::string out = "\nUsage\n\n" + usage_line(v) + "\n\n" + std::string(v.summary) + ".\n";
  if ((v.options & takes_vhost) != 0) out += "\n-p, --vhost <vhost>\n\tthe virtual host (default /)\n";
  if ((v.options & takes_policy) != 0)
    out += "\n--priority <n>\n\tthe policy's priority (default 0)\n"
           "\n--apply-to queues|exchanges|all\n\twhat the policy applies to (default all)\n";
  if (v.table != nullptr && v.table->selectable) {
    std::string names;
    for (const column& c : v.table->columns) names += (names.empty() ? "" : ", ") + std::string(c.name);
    std::string defaults;
    for (std::string_view d : v.table->defaults) defaults += (defaults.empty() ? "" : " ") + std::string(d);
    out += "\n<column>\n\tmust be one of " + names + "\n\t(default: " + defaults + ")\n";
  }
  return out;
}

// Arity, options and (for lists) column names: everything that needs no broker.
void check_arguments(const verb& v, const invocation& inv) {
  if (inv.args.size() < v.min_args) usage_error("not enough arguments.");
  if (inv.args.size() > v.max_args) usage_error("too many arguments.");
  std::string invalid;
  if ((v.options & takes_vhost) == 0 && inv.vhost) invalid += " -p";
  if ((v.options & takes_policy) == 0 && inv.priority) invalid += " --priority";
  if ((v.options & takes_policy) == 0 && inv.apply_to) invalid += " --apply-to";
  if (!invalid.empty()) usage_error("Invalid options for this command:" + invalid);
  if (v.table != nullptr && v.table->selectable) select_columns(*v.table, inv.args);
}

void run_one_request(const command_context& ctx) {
  json reply = ctx.call(build_request(ctx.v, ctx.inv));
  if (ctx.v.table == nullptr) return;
  std::vector<std::string> asked = ctx.v.table->selectable ? ctx.inv.args : std::vector<std::string>{};
  bool headers = ctx.inv.table_headers && ctx.inv.level != verbosity::silent;
  ctx.out += format_table(select_columns(*ctx.v.table, asked), reply, headers);
}

std::string reason_of(const api_reply& reply) {
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("reason")) {
    const json& reason = body["reason"];
    return reason.is_string() ? reason.get<std::string>() : reason.dump();
  }
  if (!reply.body.empty() && reply.body.size() < 1000) return reply.body;
  return "the broker answered HTTP " + std::to_string(reply.status);
}

}  // namespace

const verb* find_verb(std::string_view name) {
  for (const verb& v : verbs())
    if (v.name == name) return &v;
  return nullptr;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

std::string expand(std::string_view pattern, const invocation& inv, bool encode) {
  std::string out;
  while (!pattern.empty()) {
    std::size_t open = pattern.find('{');
    std::size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) break;
    out += pattern.substr(0, open);
    std::string_view name = pattern.substr(open + 1, close - open - 1);
    std::string value;
    if (name == "vhost") value = inv.vh();
    else if (name == "priority") value = inv.priority.value_or("0");
    else if (name == "timeout") value = std::to_string(inv.timeout_seconds) + ".0";
    else if (name.size() == 1 && name[0] >= '0' && name[0] <= '9' && std::size_t(name[0] - '0') < inv.args.size())
      value = inv.args[name[0] - '0'];
    out += encode ? percent_encode(value) : value;
    pattern.remove_prefix(close + 1);
  }
  return out + std::string(pattern);
}

api_request build_request(const verb& v, const invocation& inv) {
  api_request r{std::string(v.method), expand(v.path, inv, true), {}, {}};
  if (v.body != nullptr) r.body = v.body(inv);
  return r;
}

json parse_json_argument(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    command_failed(exit_code::data, "JSON decoding error. Reason: " + std::string(e.what()));
  }
}

void fail_for_reply(const verb& v, const invocation& inv, const api_reply& reply) {
  if (reply.status == 404 && v.not_found == missing_means::user && !inv.args.empty())
    command_failed(exit_code::no_user, "User \"" + inv.args[0] + "\" does not exist");
  command_failed(reply.status >= 400 && reply.status < 500 ? exit_code::unavailable : exit_code::software,
                 reason_of(reply));
}

api_reply command_context::call_any(const api_request& request) const { return env.call(request); }

json command_context::call(const api_request& request) const {
  api_reply reply = env.call(request);
  if (reply.status < 200 || reply.status > 299) fail_for_reply(v, inv, reply);
  if (reply.body.empty()) return json();
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_discarded()) command_failed(exit_code::software, "the broker's reply is not JSON: " + reply.body);
  return body;
}

void command_context::info(const std::string& line) const {
  if (inv.informational()) out += line + "\n";
}

outcome execute(const invocation& inv, environment& env) {
  outcome o;
  const verb* v = nullptr;
  try {
    if (inv.version) {
      o.out = "roostctl " ROOST_VERSION "\n";
      return o;
    }
    if (inv.verb.empty() || inv.verb == "help") {
      const verb* about = inv.args.empty() ? nullptr : find_verb(inv.args[0]);
      if (!inv.args.empty() && about == nullptr) usage_error("no command '" + inv.args[0] + "'");
      std::string text = about != nullptr ? verb_help(*about) : general_help();
      if (inv.verb.empty() && !inv.help) {  // no command at all: usage, as an error
        o.err = text;
        o.exit_code = static_cast<int>(exit_code::usage);
      } else {
        o.out = text;
      }
      return o;
    }
    v = find_verb(inv.verb);
    if (v == nullptr) {
      o.err = "\nCommand '" + inv.verb + "' not found.\n" + general_help();
      o.exit_code = static_cast<int>(exit_code::usage);
      return o;
    }
    if (inv.help) {
      o.out = verb_help(*v);
      return o;
    }
    check_arguments(*v, inv);
    env.connect();
    command_context ctx{inv, *v, env, o.out};
    if (!v->info.empty()) ctx.info(expand(v->info, inv, false));
    if (v->run != nullptr) v->run(ctx);
    else run_one_request(ctx);
  } catch (const command_error& e) {
    o.err += e.what();
    if (e.code() == exit_code::usage && v != nullptr) o.err += "\n\nUsage\n\n" + usage_line(*v);
    o.err += "\n";
    o.exit_code = static_cast<int>(e.code());
  }
  return o;
}

}  // namespace roost::ctl
