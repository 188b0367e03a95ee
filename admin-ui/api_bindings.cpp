// /api/bindings: list, create, show and delete bindings between an exchange
// and a queue (/e/{exchange}/q/{queue}) or two exchanges (/e/{source}/e/{dest}).
// A binding is addressed by its properties key (properties_key.hpp: the
// forms a client may send it in), which the Location header of a new binding
// carries. Creating and deleting use the vhost operations queue.bind /
// exchange.bind and their unbinds use.
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/properties_key.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"
#include "routing/binding_set.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr owner_id admin_owner = 0;

std::string exchange_name(const std::string& path_name) {
  return path_name == "amq.default" ? std::string() : path_name;
}

bool to_queue(const api_call& c) { return c.param("kind") == "q"; }

// The endpoints of the path, checked to exist (404 otherwise).
void check_endpoints(const api_call& c, vhost& v) {
  std::string source = exchange_name(c.param("source"));
  if (v.find_exchange(source) == nullptr) not_found("no exchange '" + c.param("source") + "' in vhost '" + v.name() + "'");
  const std::string& dest = c.param("destination");
  bool found = to_queue(c) ? v.find_queue(dest) != nullptr : v.find_exchange(exchange_name(dest)) != nullptr;
  if (!found)
    not_found(std::string("no ") + (to_queue(c) ? "queue" : "exchange") + " '" + dest + "' in vhost '" + v.name() + "'");
}

void check_kind(const api_call& c) {
  if (c.param("kind") != "q" && c.param("kind") != "e") not_found("binding destinations are /q/ or /e/");
}

// The bindings between the path's endpoints.
json between(const api_call& c, vhost& v) {
  json items = json::array();
  std::string source = exchange_name(c.param("source"));
  std::string dest = to_queue(c) ? c.param("destination") : exchange_name(c.param("destination"));
  for (auto& b : vhost_bindings(v))
    if (b["source"] == source && b["destination"] == dest &&
        b["destination_type"] == (to_queue(c) ? "queue" : "exchange"))
      items.push_back(std::move(b));
  return items;
}

http_response list_all(const api_call& c) {
  json items = json::array();
  for (const auto& [name, v] : c.ctx.b.vhosts())
    if (lists_vhost(c, name))
      for (auto& b : vhost_bindings(*v)) items.push_back(std::move(b));
  return list_response(c, std::move(items));
}

http_response list_vhost(const api_call& c) { return list_response(c, vhost_bindings(c.vh())); }

http_response list_between(const api_call& c) {
  check_kind(c);
  vhost& v = c.vh();
  check_endpoints(c, v);
  return list_response(c, between(c, v));
}

http_response create(const api_call& c) {
  check_kind(c);
  vhost& v = c.vh();
  check_endpoints(c, v);
  json body = parse_body(c.req);
  check_fields(body, {"routing_key", "arguments", "vhost", "source", "destination", "destination_type"});
  std::string key = string_field(body, "routing_key", "");
  if (key.size() > 255) bad_request("routing_key longer than 255 bytes");
  amqp::field_table arguments = table_field(body, "arguments");
  std::string source = exchange_name(c.param("source"));
  require_binding(c, v, source, to_queue(c) ? "queue" : "exchange",
                  to_queue(c) ? c.param("destination") : exchange_name(c.param("destination")), key);
  if (to_queue(c)) v.bind_queue(source, c.param("destination"), key, arguments, admin_owner);
  else v.bind_exchange(source, exchange_name(c.param("destination")), key, arguments);
  // The new binding's key, computed from the stored (canonical) form.
  binding b{{}, key, routing::canonical_arguments(arguments)};
  http_response r = created();
  r.headers.emplace_back("Location", "/api/bindings/" + percent_encode(v.name()) + "/e/" +
                                         percent_encode(c.param("source")) + "/" + c.param("kind") + "/" +
                                         percent_encode(c.param("destination")) + "/" +
                                         percent_encode(properties_key(b)));
  return r;
}

[[noreturn]] void no_such_binding(const api_call& c) {
  not_found("no binding with properties key '" + c.param("props") + "'");
}

// The path's properties key in the form the listings print it.
std::string listed_key(const api_call& c) {
  auto key = named_properties_key(c.param("props"));
  if (!key) no_such_binding(c);
  return *key;
}

json find_binding(const api_call& c, vhost& v) {
  std::string key = listed_key(c);
  for (auto& b : between(c, v))
    if (b["properties_key"] == key) return b;
  no_such_binding(c);
}

http_response show(const api_call& c) {
  check_kind(c);
  vhost& v = c.vh();
  check_endpoints(c, v);
  return json_response(find_binding(c, v));
}

http_response remove(const api_call& c) {
  check_kind(c);
  vhost& v = c.vh();
  check_endpoints(c, v);
  std::string source = exchange_name(c.param("source"));
  if (source.empty()) throw_access_refused("operation not permitted on the default exchange");
  exchange& x = *v.find_exchange(source);
  routing::destination dest = to_queue(c)
      ? routing::destination{routing::destination_kind::queue, v.find_queue(c.param("destination"))->id()}
      : routing::destination{routing::destination_kind::exchange,
                             v.find_exchange(exchange_name(c.param("destination")))->id()};
  // The stored binding itself, so the unbind gets its arguments with their original AMQP types.
  std::string key = listed_key(c);
  for (const binding& b : x.bindings()) {
    if (b.destination != dest || properties_key(b) != key) continue;
    binding doomed = b;
    require_binding(c, v, source, to_queue(c) ? "queue" : "exchange",
                    to_queue(c) ? c.param("destination") : exchange_name(c.param("destination")), doomed.routing_key);
    if (to_queue(c)) v.unbind_queue(source, c.param("destination"), doomed.routing_key, doomed.arguments, admin_owner);
    else v.unbind_exchange(source, exchange_name(c.param("destination")), doomed.routing_key, doomed.arguments);
    return no_content();
  }
  no_such_binding(c);
}

}  // namespace

void add_binding_routes(api_router& r) {
  r.add("GET", "/api/bindings", list_all);
  r.add("GET", "/api/bindings/:vhost", list_vhost);
  r.add("GET", "/api/bindings/:vhost/e/:source/:kind/:destination", list_between);
  r.add("POST", "/api/bindings/:vhost/e/:source/:kind/:destination", create);
  r.add("GET", "/api/bindings/:vhost/e/:source/:kind/:destination/:props", show);
  r.add("DELETE", "/api/bindings/:vhost/e/:source/:kind/:destination/:props", remove);
}

}  // namespace roost::admin
