#include "admin-ui/api.hpp"

#include "admin-ui/api_error.hpp"
#include "admin-ui/basic_auth.hpp"
#include "admin-ui/metrics.hpp"
#include "admin-ui/static_files.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/errors.hpp"

namespace roost::admin {

namespace {

const api_router& routes() {
  static const api_router table = [] {
    api_router r;
    add_overview_routes(r);
    add_node_routes(r);
    add_queue_routes(r);
    add_queue_message_routes(r);
    add_message_repair_routes(r);
    add_redrive_routes(r);
    add_scheduled_routes(r);
    add_exchange_routes(r);
    add_binding_routes(r);
    add_connection_routes(r);
    add_definition_routes(r);
    add_user_routes(r);
    add_vhost_routes(r);
    add_permission_routes(r);
    add_limit_routes(r);
    add_policy_routes(r);
    return r;
  }();
  return table;
}

// RabbitMQ's two answers to a failed login: no credentials at all get an
// empty 401 with the challenge; wrong ones (or a loopback-only user from
// elsewhere) get a JSON reason spelled "not_authorized", unlike the
// "not_authorised" of its authorisation refusals.
http_response login_failed(bool had_credentials) {
  http_response r;
  r.status = 401;
  if (had_credentials) r = error_body(401, "not_authorized", "Login failed");
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"RabbitMQ Management\"");
  return r;
}

api_caller caller(const broker& b, std::string name) {
  const user_account* account = b.access().find_user(name);
  return api_caller{std::move(name), account != nullptr ? account->tags : std::vector<std::string>{}};
}

// Path, route and method first (404 and 405 need no login, as in RabbitMQ),
// then the login (none on the control socket: its file's mode decided who
// may connect), then the route's access rule, then the handler.
http_response handle_api(const http_request& req, std::string_view path, std::string_view query,
                         admin_context& ctx, bool& logged_in) {
  auto segments = split_path(path);
  if (!segments) bad_request("malformed path (bad escape, empty segment, '.' or '..')");
  auto match = routes().find(req.method, *segments);
  if (!match) not_found("no such endpoint: " + std::string(path));
  if (match->handler == nullptr) {
    http_response r = error_body(405, "method_not_allowed", "method " + req.method + " not allowed here");
    r.headers.emplace_back("Allow", match->allowed);
    return r;
  }
  api_caller who = control_socket_caller();
  if (req.origin == request_origin::http) {
    const std::string* authorization = req.header("authorization");
    auto user = authenticate_basic(ctx.b, authorization, req.peer_is_loopback);
    if (!user) return login_failed(authorization != nullptr);
    who = caller(ctx.b, std::move(*user));
  }
  logged_in = true;
  check_route_access(ctx.b, who, match->handler->access, match->params);
  query_params q = parse_query(query);
  api_call call{req, match->params, q, ctx, std::move(who)};
  return match->handler->handler(call);
}

// Where a request goes: the API, the Prometheus exporter, or the dashboard's files.
http_response route_request(const http_request& req, admin_context& ctx, bool& logged_in) {
  std::string_view target = req.target;
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (path == "/api" || path.starts_with("/api/")) return handle_api(req, path, query, ctx, logged_in);
  if (path == "/metrics") {
    if (req.method != "GET") throw api_error(405, "method_not_allowed", "only GET is allowed on /metrics");
    return metrics_response(ctx);
  }
  if (req.method != "GET" && req.method != "HEAD")
    throw api_error(405, "method_not_allowed", "static files are read-only");
  return serve_static(ctx.static_dir, path);
}

}  // namespace

vhost& api_call::vh() const {
  const std::string& name = param("vhost");
  vhost* v = ctx.b.find_vhost(name);
  if (v == nullptr) not_found("vhost '" + name + "' does not exist");
  return *v;
}

http_response json_response(const nlohmann::json& body, int status) {
  http_response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

http_response no_content() {
  http_response r;
  r.status = 204;
  return r;
}

http_response created() {
  http_response r;
  r.status = 201;
  return r;
}

http_response list_response(const api_call& call, nlohmann::json items) {
  return json_response(apply_listing(std::move(items), parse_list_options(call.query)));
}

http_response handle_request(const http_request& req, admin_context& ctx) {
  bool logged_in = false;  // set by the API once the login passed, even if the handler then throws
  http_response r;
  try {
    r = route_request(req, ctx, logged_in);
  } catch (...) {
    r = error_response(std::current_exception());
  }
  r.logged_in = logged_in;
  return r;
}

}  // namespace roost::admin
