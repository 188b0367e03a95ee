// A command the broker refused, told as rabbitmqctl tells it: see
// verb::missing_user, missing_vhost and not_found in verbs.hpp. The
// existence checks cost two requests, and only on a refusal.
#include "ctl/verbs.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace roost::ctl {

using nlohmann::json;

namespace {

// The API escapes <, > and & in policy validation reasons, as RabbitMQ's
// management API does for a browser; rabbitmqctl prints them as they are.
std::string html_unescaped(std::string_view text) {
  static constexpr std::pair<std::string_view, char> entities[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}};
  std::string out;
  while (!text.empty()) {
    auto entity = std::find_if(std::begin(entities), std::end(entities),
                               [&](const auto& e) { return text.starts_with(e.first); });
    if (entity == std::end(entities)) {
      out += text.front();
      text.remove_prefix(1);
    } else {
      out += entity->second;
      text.remove_prefix(entity->first.size());
    }
  }
  return out;
}

// The broker's reason: the "reason" of its JSON error body, which may be a
// list (["invalid_regexp", "(", "..."]), printed as JSON.
std::string reason_of(const api_reply& reply) {
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("reason")) {
    const json& reason = body["reason"];
    return reason.is_string() ? html_unescaped(reason.get_ref<const std::string&>()) : reason.dump();
  }
  if (!reply.body.empty() && reply.body.size() < 1000) return reply.body;
  return "the broker answered HTTP " + std::to_string(reply.status);
}

bool exists(const command_context& ctx, const std::string& path) {
  api_reply reply = ctx.env.call(request("GET", path));
  return reply.status != 404;
}

[[noreturn]] void end_with(const refusal& r, const invocation& inv) {
  throw command_error(r.code, expand(r.text, inv, false));
}

}  // namespace

void command_context::refused(const api_reply& reply) const {
  bool client_error = reply.status >= 400 && reply.status < 500;
  if (client_error && v.missing_user.set() && !inv.args.empty() &&
      !exists(*this, "/api/users/" + percent_encode(inv.args[0])))
    end_with(v.missing_user, inv);
  if (client_error && v.missing_vhost.set() && !exists(*this, "/api/vhosts/" + percent_encode(inv.vh())))
    end_with(v.missing_vhost, inv);
  if (reply.status == 404 && v.not_found.set()) end_with(v.not_found, inv);
  command_failed(client_error ? v.refused_code : exit_code::software, reason_of(reply));
}

}  // namespace roost::ctl
