// set_user_limits, set_vhost_limits and their clear_* commands: one request
// per limit, since the API has one resource per limit; see multi_step.hpp.
#include <map>

#include "ctl/multi_step.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

// The limits a GET of /api/user-limits/{u} or /api/vhost-limits/{v} lists, by name.
std::map<std::string, json> current_limits(const command_context& ctx, const std::string& base) {
  std::map<std::string, json> limits;
  json listed = ctx.call(request("GET", base));  // 404: no such user or vhost
  if (!listed.is_array()) return limits;
  for (const json& item : listed)
    if (item.is_object() && item.contains("value") && item["value"].is_object())
      for (const auto& [name, value] : item["value"].items()) limits[name] = value;
  return limits;
}

api_request put_limit(const std::string& base, const std::string& name, const json& value) {
  return request("PUT", base + "/" + percent_encode(name), json{{"value", value}}.dump());
}

api_request delete_limit(const std::string& base, const std::string& name) {
  return request("DELETE", base + "/" + percent_encode(name));
}

// Puts back the limits read before a change that was refused part-way.
void restore(const command_context& ctx, const std::string& base, const std::map<std::string, json>& before,
             const json& wanted) {
  for (const auto& [name, value] : before) ctx.call_any(put_limit(base, name, value));
  for (const auto& [name, value] : wanted.items())
    if (!before.contains(name)) ctx.call_any(delete_limit(base, name));
}

// Makes the limits under base (".../user-limits/<u>" or ".../vhost-limits/<v>")
// those in `wanted`, keeping the others unless `replace`. The first refusal
// puts back what was there before (best effort) and ends the command.
void change_limits(const command_context& ctx, const std::string& base, const json& wanted, bool replace) {
  std::map<std::string, json> before = current_limits(ctx, base);
  std::vector<api_request> changes;
  for (const auto& [name, value] : wanted.items()) changes.push_back(put_limit(base, name, value));
  for (const auto& [name, value] : before)
    if (replace && !wanted.contains(name)) changes.push_back(delete_limit(base, name));
  for (std::size_t i = 0; i < changes.size(); ++i) {
    api_reply reply = ctx.call_any(changes[i]);
    if (reply.status >= 200 && reply.status < 300) continue;
    if (i > 0) restore(ctx, base, before, wanted);
    ctx.refused(reply);
  }
}

json limits_argument(const std::string& text) {
  json limits = parse_json_argument(text);
  if (!limits.is_object())
    command_failed(exit_code::unavailable, "limits must be a JSON object, such as {\"max-connections\": 10}");
  return limits;
}

std::string user_limits_path(const command_context& ctx) { return "/api/user-limits/" + percent_encode(ctx.arg(0)); }

std::string vhost_limits_path(const command_context& ctx) {
  return "/api/vhost-limits/" + percent_encode(ctx.inv.vh());
}

}  // namespace

void run_set_user_limits(command_context& ctx) {
  change_limits(ctx, user_limits_path(ctx), limits_argument(ctx.arg(1)), false);
}

void run_clear_user_limits(command_context& ctx) {
  if (ctx.arg(1) != "all") {
    ctx.info("Clearing \"" + ctx.arg(1) + "\" limit for user \"" + ctx.arg(0) + "\" ...");
    ctx.call(delete_limit(user_limits_path(ctx), ctx.arg(1)));
    return;
  }
  ctx.info("Clearing all limits for user \"" + ctx.arg(0) + "\" ...");
  change_limits(ctx, user_limits_path(ctx), json::object(), true);
}

void run_set_vhost_limits(command_context& ctx) {
  change_limits(ctx, vhost_limits_path(ctx), limits_argument(ctx.arg(0)), true);
}

void run_clear_vhost_limits(command_context& ctx) {
  change_limits(ctx, vhost_limits_path(ctx), json::object(), true);
}

}  // namespace roost::ctl
