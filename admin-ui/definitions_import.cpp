// Reading a definitions document into a plan, checking it whole, applying
// it: see definitions.hpp. One reader per section (read_users,
// read_vhosts, ...) and one apply step per section, in RabbitMQ's order:
// users, vhosts (with their limits), permissions, topic permissions,
// policies and operator policies (so that new queues and exchanges pick them
// up as they are declared), then exchanges, queues and bindings.
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "admin-ui/access_json.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/api_policies.hpp"
#include "admin-ui/definitions.hpp"
#include "admin-ui/json_body.hpp"
#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/equivalence.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"
#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"

namespace roost::admin {

using nlohmann::json;

namespace {

constexpr owner_id admin_owner = 0;

struct planned_vhost {
  vhost_settings settings;
  bool created = false;
};
struct planned_permission {
  std::string user, vhost, configure, write, read;
};
struct planned_topic_permission {
  std::string user, vhost, exchange, write, read;
};
struct planned_exchange {
  std::string vhost;
  exchange_spec spec;
};
struct planned_queue {
  std::string vhost;
  std::string name;
  queue_options options;
};
struct planned_binding {
  std::string vhost;
  std::string source, destination, routing_key;
  bool to_queue;
  amqp::field_table arguments;
};

struct import_plan {
  std::map<std::string, user_account> users;
  // Vhosts the document creates, or whose settings or limits it changes.
  std::map<std::string, planned_vhost> vhosts;
  std::vector<planned_permission> permissions;
  std::vector<planned_topic_permission> topic_permissions;
  std::vector<policy_ref> policies;  // regular and operator policies
  std::vector<planned_exchange> exchanges;
  std::vector<planned_queue> queues;
  std::vector<planned_binding> bindings;
};

const json& list(const json& doc, const char* key) {
  static const json empty = json::array();
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return empty;
  if (!it->is_array()) bad_request(std::string("'") + key + "' must be an array");
  return *it;
}

const json& object(const json& item, const char* section) {
  if (!item.is_object()) bad_request(std::string("every entry of '") + section + "' must be an object");
  return item;
}

// Reads the document for one vhost (scope.only) or for all (each item names its vhost).
class importer {
 public:
  importer(broker& b, const import_scope& scope) : broker_(b), scope_(scope) {}

  import_plan plan(const json& doc) {
    check_fields(doc, {"rabbit_version", "rabbitmq_version", "product_name", "product_version", "users", "vhosts",
                       "permissions", "topic_permissions", "parameters", "global_parameters", "policies", "queues",
                       "exchanges", "bindings"});
    if (scope_.only == nullptr) {
      read_users(list(doc, "users"));
      read_vhosts(list(doc, "vhosts"));
      read_permissions(list(doc, "permissions"));
      read_topic_permissions(list(doc, "topic_permissions"));
      read_global_parameters(list(doc, "global_parameters"));
    }
    read_parameters(list(doc, "parameters"));
    read_policies(list(doc, "policies"));
    for (const json& x : list(doc, "exchanges")) plan_.exchanges.push_back(read_exchange(object(x, "exchanges")));
    for (const json& q : list(doc, "queues")) plan_.queues.push_back(read_queue(object(q, "queues")));
    for (const json& b : list(doc, "bindings")) plan_.bindings.push_back(read_binding(object(b, "bindings")));
    check_queue_limits();
    return std::move(plan_);
  }

 private:
  // ---- users, vhosts, permissions

  void read_users(const json& users) {
    for (const json& item : users) {
      const json& u = object(item, "users");
      check_fields(u, {"name", "password", "password_hash", "hashing_algorithm", "tags", "limits"});
      std::string name = required_string(u, "name");
      if (name.empty()) bad_request("user names must not be empty");
      const user_account* existing = known_user(name);
      user_account account = user_from_json(u, name, existing);
      plan_.users.insert_or_assign(name, std::move(account));
    }
  }

  void read_vhosts(const json& vhosts) {
    for (const json& item : vhosts) {
      const json& v = object(item, "vhosts");
      check_fields(v, {"name", "description", "tags", "metadata", "default_queue_type", "limits", "tracing"});
      std::string name = required_string(v, "name");
      if (name.empty()) bad_request("vhost names must not be empty");
      if (bool_field(v, "tracing", false)) bad_request("tracing is not supported by Roost");
      // RabbitMQ 3.10 reads description and tags at the top or in "metadata" (3.11+ exports).
      const json& meta = v.contains("metadata") ? object(v["metadata"], "vhosts' metadata") : json::object();
      planned_vhost& p = touch_vhost(name);
      p.settings.description = string_field(v, "description", string_field(meta, "description", ""));
      const json* tags = v.contains("tags") ? &v["tags"] : meta.contains("tags") ? &meta["tags"] : nullptr;
      p.settings.tags = tags != nullptr ? tags_from_json(*tags, "tags") : std::vector<std::string>{};
      p.settings.default_queue_type =
          default_queue_type_from_json(v.contains("default_queue_type") ? v : meta, p.settings.default_queue_type);
      if (v.contains("limits")) p.settings.limits = vhost_limits_from_json(v["limits"]);
    }
  }

  void read_permissions(const json& permissions) {
    for (const json& item : permissions) {
      const json& p = object(item, "permissions");
      check_fields(p, {"user", "vhost", "configure", "write", "read"});
      planned_permission perm{known_user_name(p), known_vhost_name(required_string(p, "vhost")), {}, {}, {}};
      require_keys(p, {"configure", "write", "read"});
      perm.configure = expression(p, "configure");
      perm.write = expression(p, "write");
      perm.read = expression(p, "read");
      plan_.permissions.push_back(std::move(perm));
    }
  }

  void read_topic_permissions(const json& permissions) {
    for (const json& item : permissions) {
      const json& p = object(item, "topic_permissions");
      check_fields(p, {"user", "vhost", "exchange", "write", "read"});
      planned_topic_permission perm{known_user_name(p), known_vhost_name(required_string(p, "vhost")), {}, {}, {}};
      require_keys(p, {"exchange", "write", "read"});
      perm.exchange = required_string(p, "exchange");
      perm.write = topic_expression(p, "write", perm.user, perm.vhost);
      perm.read = topic_expression(p, "read", perm.user, perm.vhost);
      plan_.topic_permissions.push_back(std::move(perm));
    }
  }

  // ---- parameters, global parameters, policies

  // Two components: vhost limits ({"component": "vhost-limits", "name":
  // "limits", "value": {"max-queues": 10}}; the value replaces the vhost's
  // limits) and operator policies ({"component": "operator_policy", "name":
  // the policy's, "value": its pattern, definition, priority, apply-to}).
  void read_parameters(const json& parameters) {
    for (const json& item : parameters) {
      const json& p = object(item, "parameters");
      check_fields(p, {"vhost", "component", "name", "value"});
      std::string component = required_string(p, "component");
      std::string name = required_string(p, "name");
      std::string vhost_name = known_vhost_name(item_vhost_name(p));
      require_keys(p, {"value"});
      if (component == "operator_policy") {
        plan_.policies.push_back(parse_policy(vhost_name, name, object(p["value"], "parameters' values"),
                                              policy_kind::operator_policy));
        continue;
      }
      if (component != "vhost-limits")
        bad_request("parameters of component '" + component + "' are not supported by Roost");
      if (name != "limits") bad_request("a vhost-limits parameter must be named 'limits'");
      touch_vhost(vhost_name).settings.limits = vhost_limits_from_json(p["value"]);
    }
  }

  // RabbitMQ exports its cluster id; Roost has no cluster to name.
  void read_global_parameters(const json& parameters) {
    for (const json& item : parameters) {
      std::string name = required_string(object(item, "global_parameters"), "name");
      if (name != "internal_cluster_id") bad_request("global parameter '" + name + "' is not supported by Roost");
    }
  }

  // The same validation as PUT /api/policies/{vhost}/{name}.
  void read_policies(const json& policies) {
    for (const json& item : policies) {
      const json& p = object(item, "policies");
      check_fields(p, {"vhost", "name", "pattern", "apply-to", "definition", "priority"});
      std::string vhost_name = known_vhost_name(item_vhost_name(p));
      plan_.policies.push_back(parse_policy(vhost_name, required_string(p, "name"), p, policy_kind::regular));
    }
  }

  // ---- exchanges, queues, bindings

  planned_exchange read_exchange(const json& item) {
    check_fields(item, {"name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"});
    vhost& v = topology_vhost(item);
    exchange_spec spec{required_string(item, "name"), required_string(item, "type"),
                       bool_field(item, "durable", true) ? durability::durable : durability::transient,
                       bool_field(item, "auto_delete", false), bool_field(item, "internal", false),
                       table_field(item, "arguments")};
    std::string what = describe("exchange", spec.name, v.name());
    if (spec.name.empty()) throw_access_refused("operation not permitted on the default exchange");
    if (spec.name.size() > 255) bad_request("exchange name longer than 255 bytes");
    // As exchange.declare checks it: a delaying exchange (x-delayed-message) is known by its x-delayed-type.
    routing::exchange_problem problem = routing::check_exchange(spec.type, spec.arguments);
    if (problem.what == routing::exchange_problem::kind::unknown_type)
      bad_request("unknown exchange type '" + problem.text + "'");
    if (problem.what == routing::exchange_problem::kind::invalid_arguments) bad_request(what + ": " + problem.text);
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
    return {v.name(), spec};
  }

  planned_queue read_queue(const json& item) {
    check_fields(item, {"name", "vhost", "durable", "auto_delete", "arguments", "type"});
    vhost& v = topology_vhost(item);
    std::string name = required_string(item, "name");
    if (name.empty() || name.size() > 255) bad_request("queue names must be 1 to 255 bytes long");
    queue_options options;
    options.durable = bool_field(item, "durable", true) ? durability::durable : durability::transient;
    options.auto_delete = bool_field(item, "auto_delete", false);
    options.arguments = queue_arguments_field(item, "type");
    std::string what = describe("queue", name, v.name());
    const queue_options* current = nullptr;
    if (queue* q = v.find_queue(name)) {
      if (q->options().exclusive) v.accessible_queue(name, ~owner_id{0});  // throws 405 RESOURCE_LOCKED
      current = &q->options();
    } else if (auto it = queues_.find({&v, name}); it != queues_.end()) {
      current = &it->second;
    } else if (name.starts_with("amq.")) {
      throw_access_refused("queue name '" + name + "' contains reserved prefix 'amq.*'");
    } else {
      vhost::check_new_queue(what, options, false);
      ++new_queues_[v.name()];
    }
    if (current != nullptr) {
      check_flag_equivalence(what, "durable", current->durable == durability::durable,
                             options.durable == durability::durable);
      check_flag_equivalence(what, "auto_delete", current->auto_delete, options.auto_delete);
      check_queue_arguments(what, current->arguments, options.arguments);
    }
    queues_.emplace(std::pair{&v, name}, options);
    return {v.name(), name, options};
  }

  planned_binding read_binding(const json& item) {
    check_fields(item, {"source", "vhost", "destination", "destination_type", "routing_key", "arguments"});
    vhost& v = topology_vhost(item);
    planned_binding b{v.name(), required_string(item, "source"), required_string(item, "destination"),
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
    std::string invalid = routing::make_router(source->type, source->arguments)->validate_binding(b.arguments);
    if (!invalid.empty()) throw_precondition_failed(invalid);
    return b;
  }

  // A vhost's queue limit holds for the queues the document adds, or the
  // declarations would fail half-way through.
  void check_queue_limits() {
    for (const auto& [name, added] : new_queues_) {
      const vhost& v = vhost_for(name);
      auto planned = plan_.vhosts.find(name);
      const vhost_limits& limits = planned != plan_.vhosts.end() ? planned->second.settings.limits : v.settings().limits;
      std::int64_t limit = limits.max_queues.value_or(-1);
      if (limit >= 0 && static_cast<std::int64_t>(v.queues().size() + added) > limit)
        bad_request("queue limit in vhost '" + name + "' (" + std::to_string(limit) + ") would be exceeded: " +
                    std::to_string(added) + " new queues for " + std::to_string(v.queues().size()) + " existing");
    }
  }

  // ---- names

  const user_account* known_user(const std::string& name) const {
    auto it = plan_.users.find(name);
    return it != plan_.users.end() ? &it->second : broker_.access().find_user(name);
  }

  std::string known_user_name(const json& item) {
    std::string name = required_string(item, "user");
    if (known_user(name) == nullptr) bad_request_list({"no_such_user", name});
    return name;
  }

  bool vhost_known(const std::string& name) const {
    auto it = plan_.vhosts.find(name);
    return broker_.vhosts().contains(name) || (it != plan_.vhosts.end() && it->second.created);
  }

  std::string known_vhost_name(std::string name) const {
    if (!vhost_known(name)) bad_request_list({"no_such_vhost", name});
    return name;
  }

  planned_vhost& touch_vhost(const std::string& name) {
    auto it = plan_.vhosts.find(name);
    if (it != plan_.vhosts.end()) return it->second;
    const vhost* existing = broker_.find_vhost(name);
    planned_vhost p{existing != nullptr ? existing->settings() : vhost_settings{}, existing == nullptr};
    return plan_.vhosts.emplace(name, std::move(p)).first->second;
  }

  // The vhost an entry goes to: the scope's, or the one it names.
  std::string item_vhost_name(const json& item) const {
    if (scope_.only == nullptr) return required_string(item, "vhost");
    if (item.contains("vhost") && string_field(item, "vhost", "") != scope_.only->name())
      bad_request("entry for vhost '" + string_field(item, "vhost", "") + "' in an import for vhost '" +
                  scope_.only->name() + "'");
    return scope_.only->name();
  }

  // The real vhost, or a scratch one standing in for a vhost the document
  // creates (its default exchanges are what the real one will have).
  vhost& vhost_for(const std::string& name) {
    if (vhost* v = broker_.find_vhost(name)) return *v;
    if (!vhost_known(name)) bad_request_list({"no_such_vhost", name});
    std::unique_ptr<vhost>& scratch = scratch_[name];
    if (!scratch) scratch = std::make_unique<vhost>(name);
    return *scratch;
  }

  vhost& topology_vhost(const json& item) { return vhost_for(item_vhost_name(item)); }

  const exchange_spec* known_exchange(vhost& v, const std::string& name) {
    if (exchange* x = v.find_exchange(name)) return &x->spec();
    auto it = exchanges_.find({&v, name});
    return it == exchanges_.end() ? nullptr : &it->second;
  }

  broker& broker_;
  const import_scope& scope_;
  import_plan plan_;
  std::map<std::string, std::unique_ptr<vhost>> scratch_;
  std::map<std::pair<vhost*, std::string>, exchange_spec> exchanges_;
  std::map<std::pair<vhost*, std::string>, queue_options> queues_;
  std::map<std::string, std::size_t> new_queues_;
};

// ---- apply, section by section

void apply_users(broker& b, const import_plan& plan) {
  for (const auto& [name, account] : plan.users) b.put_user(account);
}

void apply_vhosts(broker& b, const import_plan& plan, const import_scope& scope) {
  for (const auto& [name, p] : plan.vhosts) {
    b.put_vhost(name, p.settings);
    if (p.created && scope.acting_user != nullptr && b.access().find_user(*scope.acting_user) != nullptr)
      b.set_permissions(*scope.acting_user, name, ".*", ".*", ".*");
  }
}

void apply_permissions(broker& b, const import_plan& plan) {
  for (const auto& p : plan.permissions) b.set_permissions(p.user, p.vhost, p.configure, p.write, p.read);
  for (const auto& p : plan.topic_permissions) b.set_topic_permissions(p.user, p.vhost, p.exchange, p.write, p.read);
}

void apply_policies(broker& b, const import_plan& plan) {
  for (const policy_ref& p : plan.policies) b.find_vhost(p->vhost())->put_policy(p);
}

void apply_topology(broker& b, const import_plan& plan) {
  for (const auto& x : plan.exchanges) b.find_vhost(x.vhost)->declare_exchange(x.spec, false);
  for (const auto& q : plan.queues) b.find_vhost(q.vhost)->declare_queue(q.name, q.options, false, admin_owner);
  for (const auto& bd : plan.bindings) {
    vhost& v = *b.find_vhost(bd.vhost);
    if (bd.to_queue) v.bind_queue(bd.source, bd.destination, bd.routing_key, bd.arguments, admin_owner);
    else v.bind_exchange(bd.source, bd.destination, bd.routing_key, bd.arguments);
  }
}

}  // namespace

void import_definitions(broker& b, const json& doc, const import_scope& scope) {
  if (!doc.is_object()) bad_request("a definitions document must be a JSON object");
  import_plan plan = importer(b, scope).plan(doc);
  apply_users(b, plan);
  apply_vhosts(b, plan, scope);
  apply_permissions(b, plan);
  apply_policies(b, plan);
  apply_topology(b, plan);
}

std::optional<std::string> load_definitions_file(broker& b, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read definitions file " + path;
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return "definitions file " + path + " is not valid JSON";
  try {
    import_definitions(b, doc, import_scope{});
  } catch (const std::exception& e) {
    std::string why = e.what();
    for (char& c : why)
      if (c == '\n') c = ' ';
    return "definitions file " + path + " refused: " + why;
  }
  log::info("applied definitions from " + path);
  return std::nullopt;
}

}  // namespace roost::admin
