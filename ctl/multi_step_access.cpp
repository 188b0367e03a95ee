// Multi-request commands on users, vhosts and topic permissions: see
// multi_step.hpp for why each needs more than one call.
#include "ctl/multi_step.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

std::string user_path(const command_context& ctx) { return "/api/users/" + percent_encode(ctx.arg(0)); }

// The second argument, or a line of standard input (rabbitmqctl's way to
// keep a password out of the process list).
std::string password(const command_context& ctx) {
  std::string given = ctx.inv.args.size() > 1 ? ctx.arg(1) : ctx.env.read_password();
  if (given.empty()) command_failed(exit_code::data, "Password is not provided via argument or stdin");
  return given;
}

// Tags as the API's PUT takes them everywhere: one comma-separated string.
std::string tags_text(const json& tags) {
  if (tags.is_string()) return tags.get<std::string>();
  std::string out;
  if (tags.is_array())
    for (const json& t : tags)
      if (t.is_string()) out += (out.empty() ? "" : ",") + t.get<std::string>();
  return out;
}

}  // namespace

void run_add_user(command_context& ctx) {
  api_reply existing = ctx.call_any(request("GET", user_path(ctx)));
  if (existing.status == 200) command_failed(exit_code::software, "User \"" + ctx.arg(0) + "\" already exists");
  if (existing.status != 404) ctx.refused(existing);
  ctx.call(request("PUT", user_path(ctx), json{{"password", password(ctx)}, {"tags", ""}}.dump()));
  ctx.info(
      "Done. Don't forget to grant the user permissions to some virtual hosts! See 'roostctl help "
      "set_permissions' to learn more.");
}

void run_change_password(command_context& ctx) {
  json user = ctx.call(request("GET", user_path(ctx)));
  json body{{"password", password(ctx)}, {"tags", tags_text(user.value("tags", json::array()))}};
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
  if (existing.status != 404) ctx.refused(existing);
  ctx.call(request("PUT", path, "{}"));
}

}  // namespace roost::ctl
