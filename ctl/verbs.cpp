// Running a command line: help, argument checks, the one request of a
// simple command or the run function of a multi-step one, and every error
// turned into text and an exit code. See verbs.hpp.
#include "ctl/verbs.hpp"

#include "ctl/help.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

// Arity, options and (for lists) column names: everything that needs no broker.
void check_arguments(const verb& v, const invocation& inv) {
  std::vector<std::string> invalid = inv.invalid_options;
  if ((v.options & takes_vhost) == 0 && inv.vhost) invalid.push_back("-p : " + *inv.vhost);
  if ((v.options & takes_policy) == 0 && inv.priority) invalid.push_back("--priority : " + *inv.priority);
  if ((v.options & takes_policy) == 0 && inv.apply_to) invalid.push_back("--apply-to : " + *inv.apply_to);
  if ((v.options & takes_conditions) == 0 && inv.if_empty) invalid.push_back("--if-empty : ");
  if ((v.options & takes_conditions) == 0 && inv.if_unused) invalid.push_back("--if-unused : ");
  if (!invalid.empty()) {
    std::string listed;
    for (const std::string& o : invalid) listed += "\n" + o;
    usage_error("Invalid options for this command:" + listed);
  }
  if (inv.args.size() < v.min_args) usage_error("not enough arguments.");
  if (inv.args.size() > v.max_args) usage_error("too many arguments.");
  if (v.table != nullptr && v.table->selectable) select_columns(*v.table, inv.args);
}

void run_one_request(const command_context& ctx) {
  json reply = ctx.call(build_request(ctx.v, ctx.inv));
  if (ctx.v.table == nullptr) return;
  const table_spec& table = *ctx.v.table;
  std::vector<std::string> asked = table.selectable ? ctx.inv.args : std::vector<std::string>{};
  bool headers = ctx.inv.table_headers && ctx.inv.level != verbosity::silent;
  ctx.out += format_table(select_columns(table, asked), reply, headers);
  // rabbitmqctl 3.10 prints one empty line for an empty list of permissions or policies (the
  // lists without columns to choose), and nothing for the others.
  if (!table.selectable && (!reply.is_array() || reply.empty())) ctx.out += "\n";
}

outcome unknown_command(const std::string& name) {
  return outcome{{}, "\nCommand '" + name + "' not found.\n" + general_help(), static_cast<int>(exit_code::usage)};
}

// help, help <command>, or no command at all (the usage, as an error).
outcome help_outcome(const invocation& inv) {
  if (inv.args.empty()) {
    if (inv.verb.empty() && !inv.help) return outcome{{}, general_help(), static_cast<int>(exit_code::usage)};
    return outcome{general_help(), {}, 0};
  }
  const verb* about = find_verb(inv.args[0]);
  if (about == nullptr) return unknown_command(inv.args[0]);
  return outcome{verb_help(*about), {}, 0};
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
  api_request r = request(std::string(v.method), expand(v.path, inv, true));
  if (v.body != nullptr) r.body = v.body(inv);
  return r;
}

api_request request(std::string method, std::string target, std::string body) {
  return api_request{std::move(method), std::move(target), std::move(body), {}};
}

json parse_json_argument(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) command_failed(exit_code::unavailable, "JSON decoding error. Reason: badarg");
  return parsed;
}

api_reply command_context::call_any(const api_request& request) const { return env.call(request); }

json command_context::call(const api_request& request) const {
  api_reply reply = env.call(request);
  if (reply.status < 200 || reply.status > 299) refused(reply);
  if (reply.body.empty()) return json();
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_discarded()) command_failed(exit_code::software, "the broker's reply is not JSON: " + reply.body);
  return body;
}

void command_context::info(const std::string& line) const {
  if (inv.informational()) out += line + "\n";
}

outcome execute(const invocation& inv, environment& env) {
  if (inv.version) return outcome{"roostctl " ROOST_VERSION "\n", {}, 0};
  if (inv.verb.empty() || inv.verb == "help") return help_outcome(inv);
  const verb* v = find_verb(inv.verb);
  if (v == nullptr) return unknown_command(inv.verb);
  if (inv.help) return outcome{verb_help(*v), {}, 0};
  outcome o;
  try {
    check_arguments(*v, inv);
    if (v->check != nullptr) v->check(inv, env);
    env.connect();
    command_context ctx{inv, *v, env, o.out};
    if (!v->info.empty()) ctx.info(expand(v->info, inv, false));
    if (v->run != nullptr) v->run(ctx);
    else run_one_request(ctx);
  } catch (const argument_error& e) {
    o.err = std::string(e.what()) + "\n\nUsage\n\n" + usage_line(*v) + "\n";
    o.exit_code = static_cast<int>(e.code());
  } catch (const command_error& e) {
    if (*e.what() != '\0') o.err = std::string(e.what()) + "\n";
    o.exit_code = static_cast<int>(e.code());
  }
  return o;
}

}  // namespace roost::ctl
