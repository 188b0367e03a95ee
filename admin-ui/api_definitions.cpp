// /api/definitions: export the topology (exchanges, queues, bindings,
// vhosts, users, permissions) in RabbitMQ's JSON shape, and import it.
//
// Import is all or nothing: the whole document is parsed into a plan and
// checked against the broker and against itself (unknown fields and types,
// missing vhosts, reserved names, unknown exchange types, redeclarations
// that differ, bindings to nothing) before the first declaration is made.
// The declarations themselves are the vhost operations the AMQP side uses,
// so durability and persistence are identical.
#include <map>
#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/broker_view.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/equivalence.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"
#include "routing/binding_set.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr const char* api_compatible_version = "3.10.8";
constexpr owner_id admin_owner = 0;

bool exported_exchange(const exchange& x) { return !x.name().empty() && !x.name().starts_with("amq."); }

void export_vhost(vhost& v, json& out, bool with_vhost) {
  auto tag = [&](json item) {
    if (with_vhost) item["vhost"] = v.name();
    return item;
  };
  for (const auto& [name, q] : v.queues()) {
    if (q->options().exclusive) continue;
    out["queues"].push_back(tag(json{{"name", name}, {"durable", q->durable()},
                                     {"auto_delete", q->options().auto_delete},
                                     {"arguments", to_json(q->options().arguments)}}));
  }
  for (const auto& [name, x] : v.exchanges()) {
    if (!exported_exchange(*x)) continue;
    const exchange_spec& s = x->spec();
    out["exchanges"].push_back(tag(json{{"name", name}, {"type", s.type},
                                        {"durable", s.durable == durability::durable},
                                        {"auto_delete", s.auto_delete}, {"internal", s.internal},
                                        {"arguments", to_json(s.arguments)}}));
  }
  for (const auto& [name, x] : v.exchanges())
    for (const binding& b : x->bindings()) {
      if (b.destination.kind == routing::destination_kind::queue) {
        const queue* q = v.queue_by_id(b.destination.id);
        if (q == nullptr || q->options().exclusive) continue;
      }
      json item = binding_json(v, *x, b);
      item.erase("properties_key");
      item.erase("vhost");
      out["bindings"].push_back(tag(std::move(item)));
    }
}

http_response export_all(const api_call& c) {
  broker& b = c.ctx.b;
  json out{{"rabbit_version", api_compatible_version}, {"rabbitmq_version", api_compatible_version},
           {"product_name", "Roost"}, {"product_version", ROOST_VERSION},
           {"users", json::array()}, {"vhosts", json::array()}, {"permissions", json::array()},
           {"topic_permissions", json::array()}, {"parameters", json::array()},
           {"global_parameters", json::array()}, {"policies", json::array()},
           {"queues", json::array()}, {"exchanges", json::array()}, {"bindings", json::array()}};
  for (const auto& [name, account] : b.access().users())
    out["users"].push_back(json{{"name", name},
                                {"password_hash", account.hash.base64()},
                                {"hashing_algorithm", hashing_algorithm_name(account.hash.algorithm)},
                                {"tags", account.tags},
                                {"limits", json::object()}});
  for (const auto& [key, p] : b.access().all_permissions())
    out["permissions"].push_back(json{{"user", key.first}, {"vhost", key.second},
                                      {"configure", p.source(access::configure)},
                                      {"write", p.source(access::write)}, {"read", p.source(access::read)}});
  for (const auto& [name, v] : b.vhosts()) {
    out["vhosts"].push_back(json{{"name", name}});
    export_vhost(*v, out, true);
  }
  return json_response(out);
}

http_response export_vhost_only(const api_call& c) {
  json out{{"rabbit_version", api_compatible_version}, {"rabbitmq_version", api_compatible_version},
           {"parameters", json::array()}, {"policies", json::array()},
           {"queues", json::array()}, {"exchanges", json::array()}, {"bindings", json::array()}};
  export_vhost(c.vh(), out, false);
  return json_response(out);
}

// ---- import ----

struct planned_exchange {
  vhost* v;
  exchange_spec spec;
};
struct planned_queue {
  vhost* v;
  std::string name;
  queue_options options;
};
struct planned_binding {
  vhost* v;
  std::string source, destination, routing_key;
  bool to_queue;
  amqp::field_table arguments;
};

struct import_plan {
  std::vector<planned_exchange> exchanges;
  std::vector<planned_queue> queues;
  std::vector<planned_binding> bindings;
};

// Reads the document for one vhost (fixed) or for all (each item names its vhost).
class importer {
 public:
  importer(broker& b, vhost* fixed) : broker_(b), fixed_(fixed) {}

  import_plan plan(const json& doc) {
    check_fields(doc, {"rabbit_version", "rabbitmq_version", "product_name", "product_version", "users", "vhosts",
                       "permissions", "topic_permissions", "parameters", "global_parameters", "policies", "queues",
                       "exchanges", "bindings"});
    for (const json& u : list(doc, "users")) {
      std::string name = required_string(object(u, "users"), "name");
      if (broker_.access().find_user(name) == nullptr)
        bad_request("user '" + name + "' does not exist; Roost cannot create users");
    }
    for (const json& v : list(doc, "vhosts")) find_vhost(required_string(object(v, "vhosts"), "name"));
    for (const json& p : list(doc, "permissions")) find_vhost(required_string(object(p, "permissions"), "vhost"));
    for (const char* unsupported : {"parameters", "policies"})
      if (!list(doc, unsupported).empty()) bad_request(std::string(unsupported) + " are not supported by Roost");
    import_plan plan;
    for (const json& x : list(doc, "exchanges")) plan.exchanges.push_back(read_exchange(object(x, "exchanges")));
    for (const json& q : list(doc, "queues")) plan.queues.push_back(read_queue(object(q, "queues")));
    for (const json& b : list(doc, "bindings")) plan.bindings.push_back(read_binding(object(b, "bindings")));
    return plan;
  }

 private:
  static const json& list(const json& doc, const char* key) {
    static const json empty = json::array();
    auto it = doc.find(key);
    if (it == doc.end()) return empty;
    if (!it->is_array()) bad_request(std::string("'") + key + "' must be an array");
    return *it;
  }

  static const json& object(const json& item, const char* section) {
    if (!item.is_object()) bad_request(std::string("every entry of '") + section + "' must be an object");
    return item;
  }

  vhost& find_vhost(const std::string& name) {
    vhost* v = broker_.find_vhost(name);
    if (v == nullptr) bad_request("vhost '" + name + "' does not exist; Roost has only the vhost '/'");
    return *v;
  }

  vhost& item_vhost(const json& item) {
    if (fixed_ != nullptr) {
      if (item.contains("vhost") && string_field(item, "vhost", "") != fixed_->name())
        bad_request("entry for vhost '" + string_field(item, "vhost", "") + "' in an import for vhost '" +
                    fixed_->name() + "'");
      return *fixed_;
    }
    return find_vhost(required_string(item, "vhost"));
  }

  planned_exchange read_exchange(const json& item) {
    check_fields(item, {"name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"});
    vhost& v = item_vhost(item);
    exchange_spec spec{required_string(item, "name"), required_string(item, "type"),
                       bool_field(item, "durable", true) ? durability::durable : durability::transient,
                       bool_field(item, "auto_delete", false), bool_field(item, "internal", false),
                       table_field(item, "arguments")};
    std::string what = describe("exchange", spec.name, v.name());
    if (spec.name.empty()) throw_access_refused("operation not permitted on the default exchange");
    if (spec.name.size() > 255) bad_request("exchange name longer than 255 bytes");
    if (routing::make_router(spec.type) == nullptr) bad_request("unknown exchange type '" + spec.type + "'");
    const exchange_spec* current = nullptr;
    if (exchange* x = v.find_exchange(spec.name)) current = &x->spec();
    else if (auto it = exchanges_.find({&v, spec.name}); it != exchanges_.end()) current = &it->second;
    else if (spec.name.starts_with("amq."))
      throw_access_refused("exchange name '" + spec.name + "' contains reserved prefix 'amq.*'");
    if (current != nullptr) {
      check_text_equivalence(what, "type", current->type, spec.type);
      check_flag_equivalence(what, "durable", current->durable == durability::durable,
                             spec.durable == durability::durable);
      check_flag_equivalence(what, "auto_delete", current->auto_delete, spec.auto_delete);
      check_flag_equivalence(what, "internal", current->internal, spec.internal);
      check_exchange_arguments(what, current->arguments, spec.arguments);
    }
    exchanges_.emplace(std::pair{&v, spec.name}, spec);
    return {&v, spec};
  }

  planned_queue read_queue(const json& item) {
    check_fields(item, {"name", "vhost", "durable", "auto_delete", "arguments", "type"});
    vhost& v = item_vhost(item);
    std::string name = required_string(item, "name");
    if (name.empty() || name.size() > 255) bad_request("queue names must be 1 to 255 bytes long");
    if (string_field(item, "type", "classic") != "classic") bad_request("only classic queues are supported");
    queue_options options;
    options.durable = bool_field(item, "durable", true) ? durability::durable : durability::transient;
    options.auto_delete = bool_field(item, "auto_delete", false);
    options.arguments = table_field(item, "arguments");
    std::string what = describe("queue", name, v.name());
    const queue_options* current = nullptr;
    if (queue* q = v.find_queue(name)) {
      if (q->options().exclusive) v.accessible_queue(name, ~owner_id{0});  // throws 405 RESOURCE_LOCKED
      current = &q->options();
    } else if (auto it = queues_.find({&v, name}); it != queues_.end()) {
      current = &it->second;
    } else if (name.starts_with("amq.")) {
      throw_access_refused("queue name '" + name + "' contains reserved prefix 'amq.*'");
    }
    if (current != nullptr) {
      check_flag_equivalence(what, "durable", current->durable == durability::durable,
                             options.durable == durability::durable);
      check_flag_equivalence(what, "auto_delete", current->auto_delete, options.auto_delete);
      check_queue_arguments(what, current->arguments, options.arguments);
    }
    queues_.emplace(std::pair{&v, name}, options);
    return {&v, name, options};
  }

  planned_binding read_binding(const json& item) {
    check_fields(item, {"source", "vhost", "destination", "destination_type", "routing_key", "arguments"});
    vhost& v = item_vhost(item);
    planned_binding b{&v, required_string(item, "source"), required_string(item, "destination"),
                      string_field(item, "routing_key", ""), true, table_field(item, "arguments")};
    std::string type = required_string(item, "destination_type");
    if (type != "queue" && type != "exchange") bad_request("destination_type must be queue or exchange");
    b.to_queue = type == "queue";
    if (b.source.empty() || (!b.to_queue && b.destination.empty()))
      throw_access_refused("operation not permitted on the default exchange");
    const exchange_spec* source = known_exchange(v, b.source);
    if (source == nullptr) bad_request("binding from unknown " + describe("exchange", b.source, v.name()));
    bool destination_known = b.to_queue ? v.find_queue(b.destination) != nullptr || queues_.contains({&v, b.destination})
                                        : known_exchange(v, b.destination) != nullptr;
    if (!destination_known)
      bad_request("binding to unknown " + describe(b.to_queue ? "queue" : "exchange", b.destination, v.name()));
    std::string invalid = routing::make_router(source->type)->validate_binding(b.arguments);
    if (!invalid.empty()) throw_precondition_failed(invalid);
    return b;
  }

  const exchange_spec* known_exchange(vhost& v, const std::string& name) {
    if (exchange* x = v.find_exchange(name)) return &x->spec();
    auto it = exchanges_.find({&v, name});
    return it == exchanges_.end() ? nullptr : &it->second;
  }

  broker& broker_;
  vhost* fixed_;
  std::map<std::pair<vhost*, std::string>, exchange_spec> exchanges_;
  std::map<std::pair<vhost*, std::string>, queue_options> queues_;
};

void apply(const import_plan& plan) {
  for (const auto& x : plan.exchanges) x.v->declare_exchange(x.spec, false);
  for (const auto& q : plan.queues) q.v->declare_queue(q.name, q.options, false, admin_owner);
  for (const auto& b : plan.bindings) {
    if (b.to_queue) b.v->bind_queue(b.source, b.destination, b.routing_key, b.arguments, admin_owner);
    else b.v->bind_exchange(b.source, b.destination, b.routing_key, b.arguments);
  }
}

http_response import_into(const api_call& c, vhost* fixed) {
  json doc = parse_body(c.req);
  import_plan plan = importer(c.ctx.b, fixed).plan(doc);
  apply(plan);
  return no_content();
}

http_response import_all(const api_call& c) { return import_into(c, nullptr); }
http_response import_vhost(const api_call& c) { return import_into(c, &c.vh()); }

}  // namespace

void add_definition_routes(api_router& r) {
  r.add("GET", "/api/definitions", export_all);
  r.add("POST", "/api/definitions", import_all);
  r.add("GET", "/api/definitions/:vhost", export_vhost_only);
  r.add("POST", "/api/definitions/:vhost", import_vhost);
}

}  // namespace roost::admin
