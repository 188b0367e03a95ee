// RabbitMQ's definitions documents (the JSON of GET /api/definitions and of
// its load_definitions file) applied to a broker: users, vhosts,
// permissions, topic permissions, vhost limits (as "vhost-limits"
// parameters), policies, operator policies (as "operator_policy"
// parameters), exchanges, queues and bindings.
//
// All or nothing: the whole document is read into a plan and checked
// against the broker and against itself before the first change (unlike
// RabbitMQ, which applies entries until one fails). A document that names a
// vhost it also creates is checked against a scratch copy of that vhost.
// Users keep the hashes they are given (SHA-256, SHA-512, MD5), so users
// exported from RabbitMQ log in with their RabbitMQ passwords.
//
// Used by POST /api/definitions[/{vhost}] (api_definitions.cpp) and by the
// program at boot (--load-definitions). Broker thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace roost {
class broker;
class vhost;
}  // namespace roost

namespace roost::admin {

struct import_scope {
  // Non-null: a per-vhost document (POST /api/definitions/{vhost}): its
  // exchanges, queues, bindings and parameters go to this vhost, and users,
  // vhosts and permissions are ignored, as RabbitMQ does.
  vhost* only = nullptr;
  // Who imports: gets every permission in the vhosts the document creates,
  // as RabbitMQ's API does. Null at boot (RabbitMQ's internal user gets none).
  const std::string* acting_user = nullptr;
};

// Throws api_error (400 mostly; 403 and 409 for what the vhost operations
// refuse) and changes nothing when any entry is bad.
void import_definitions(broker& b, const nlohmann::json& doc, const import_scope& scope);

// RabbitMQ's load_definitions: reads the file and imports it (no acting
// user). Returns why it failed in one line, or nothing on success.
std::optional<std::string> load_definitions_file(broker& b, const std::string& path);

}  // namespace roost::admin
