// Multi-request commands on users, vhosts, their limits and topic
// permissions: see multi_step.hpp for why each needs more than one call.
#include <set>

#include "ctl/multi_step.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

api_request request(std::string method, std::string target, std::string body = {}) {
  return api_request{std::move(method), std::move(target), std::move(body), {}};
}

std::string user_path(const command_context& ctx) { return "/api/users/" + percent_encode(ctx.arg(0)); }

// Tags as the API's PUT takes them everywhere: one comma-separated string.
std::string tags_text(const json& tags) {
  if (tags.is_string()) return tags.get<std::string>();
  std::string out;
  if (tags.is_array())
    for (const json& t : tags)
      if (t.is_string()) out += (out.empty() ? "" : ",") + t.get<std::string>();
  return out;
}

// The names of the limits a GET of /api/user-limits/{u} or /api/vhost-limits/{v} lists.
std::set<std::string> limit_names(const json& listed) {
  std::set<std::string> names;
  if (!listed.is_array()) return names;
  for (const json& item : listed)
    if (item.is_object() && item.contains("value") && item["value"].is_object())
      for (auto it = item["value"].begin(); it != item["value"].end(); ++it) names.insert(it.key());
  return names;
}

json limits_argument(const std::string& text) {
  json limits = parse_json_argument(text);
  if (!limits.is_object())
    command_failed(exit_code::data, "limits must be a JSON object, such as {\"max-connections\": 10}");
  return limits;
}

// Makes the limits under base (".../user-limits/<u>" or ".../vhost-limits/<v>") exactly `wanted`.
void replace_limits(const command_context& ctx, const std::string& base, const json& wanted) {
  std::set<std::string> current = limit_names(ctx.call(request("GET", base)));
  for (auto it = wanted.begin(); it != wanted.end(); ++it)
    ctx.call(request("PUT", base + "/" + percent_encode(it.key()), json{{"value", it.value()}}.dump()));
  for (const std::string& name : current)
    if (!wanted.contains(name)) ctx.call(request("DELETE", base + "/" + percent_encode(name)));
}

}  // namespace

void run_add_user(command_context& ctx) {
  api_reply existing = ctx.call_any(request("GET", user_path(ctx)));
  if (existing.status == 200) command_failed(exit_code::software, "User \"" + ctx.arg(0) + "\" already exists");
  if (existing.status != 404) fail_for_reply(ctx.v, ctx.inv, existing);
  ctx.call(request("PUT", user_path(ctx), json{{"password", ctx.arg(1)}, {"tags", ""}}.dump()));
  ctx.info(
      "Done. Don't forget to grant the user permissions to some virtual hosts! See 'roostctl help "
      "set_permissions' to learn more.");
}

void run_change_password(command_context& ctx) {
  json user = ctx.call(request("GET", user_path(ctx)));
  json body{{"password", ctx.arg(1)}, {"tags", tags_text(user.value("tags", json::array()))}};
  ctx.call(request("PUT", user_path(ctx), body.dump()));
}

void run_set_user_tags(command_context& ctx) {
  std::string listed;
  std::string joined;
  for (std::size_t i = 1; i < ctx.inv.args.size(); ++i) {
    listed += (i > 1 ? ", " : "") + ctx.arg(i);
    joined += (i > 1 ? "," : "") + ctx.arg(i);
  }
  ctx.info("Setting tags for user \"" + ctx.arg(0) + "\" to [" + listed + "] ...");
  json user = ctx.call(request("GET", user_path(ctx)));
  // A PUT without a password clears it: send the hash back (an empty one: the user had none).
  if (!user.contains("password_hash") || !user["password_hash"].is_string())
    command_failed(exit_code::software,
                   "the broker does not show password hashes, so the tags cannot be set without clearing the "
                   "password");
  json body{{"tags", joined}};
  if (!user["password_hash"].get_ref<const std::string&>().empty()) {
    body["password_hash"] = user["password_hash"];
    if (user.contains("hashing_algorithm")) body["hashing_algorithm"] = user["hashing_algorithm"];
  }
  ctx.call(request("PUT", user_path(ctx), body.dump()));
}

void run_set_user_limits(command_context& ctx) {
  json wanted = limits_argument(ctx.arg(1));
  replace_limits(ctx, "/api/user-limits/" + percent_encode(ctx.arg(0)), wanted);
}

void run_clear_user_limits(command_context& ctx) {
  std::string base = "/api/user-limits/" + percent_encode(ctx.arg(0));
  if (ctx.arg(1) != "all") {
    ctx.info("Clearing \"" + ctx.arg(1) + "\" limit for user \"" + ctx.arg(0) + "\" ...");
    ctx.call(request("DELETE", base + "/" + percent_encode(ctx.arg(1))));
    return;
  }
  ctx.info("Clearing all limits for user \"" + ctx.arg(0) + "\" ...");
  replace_limits(ctx, base, json::object());
}

void run_clear_topic_permissions(command_context& ctx) {
  const std::string& vhost = ctx.inv.vh();
  std::string path = "/api/topic-permissions/" + percent_encode(vhost) + "/" + percent_encode(ctx.arg(0));
  if (ctx.inv.args.size() == 1) {
    ctx.info("Clearing topic permissions for user \"" + ctx.arg(0) + "\" in vhost \"" + vhost + "\" ...");
    ctx.call(request("DELETE", path));
    return;
  }
  const std::string& exchange = ctx.arg(1);
  ctx.info("Clearing topic permissions on \"" + exchange + "\" for user \"" + ctx.arg(0) + "\" in vhost \"" + vhost +
           "\" ...");
  json listed = ctx.call(request("GET", path));
  if (!listed.is_array()) listed = json::array({listed});
  json others = json::array();
  bool found = false;
  for (const json& p : listed) {
    if (p.value("exchange", "") == exchange) found = true;
    else others.push_back(p);
  }
  if (!found) return;  // nothing on that exchange: nothing to clear
  ctx.call(request("DELETE", path));
  for (const json& p : others)
    ctx.call(request("PUT", path,
                     json{{"exchange", p.value("exchange", "")}, {"write", p.value("write", "")},
                          {"read", p.value("read", "")}}
                         .dump()));
}

void run_add_vhost(command_context& ctx) {
  std::string path = "/api/vhosts/" + percent_encode(ctx.arg(0));
  api_reply existing = ctx.call_any(request("GET", path));
  if (existing.status == 200) return;  // as rabbitmqctl: adding an existing vhost changes nothing
  if (existing.status != 404) fail_for_reply(ctx.v, ctx.inv, existing);
  ctx.call(request("PUT", path, "{}"));
}

void run_set_vhost_limits(command_context& ctx) {
  json wanted = limits_argument(ctx.arg(0));
  replace_limits(ctx, "/api/vhost-limits/" + percent_encode(ctx.inv.vh()), wanted);
}

void run_clear_vhost_limits(command_context& ctx) {
  replace_limits(ctx, "/api/vhost-limits/" + percent_encode(ctx.inv.vh()), json::object());
}

}  // namespace roost::ctl
