// Policies and operator policies over HTTP, as RabbitMQ's management API
// has them, and the pieces /api/definitions needs to import and export
// them (the same validation and JSON as PUT and GET here).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "broker/policy/policy.hpp"

namespace roost {
class broker;
}

namespace roost::admin {

// {"vhost", "name", "pattern", "apply-to", "definition", "priority"}, RabbitMQ's fields.
nlohmann::json policy_json(const policy& p);

// Validates a PUT body (or a definitions file's "policies" entry, or an
// operator_policy parameter's value) as RabbitMQ does and builds the
// policy. Throws api_error 400 with RabbitMQ's reason: "[{key_missing,
// pattern}]" for a missing field, "Validation failed\n\n..." for a refused
// one (HTML-escaped for policies, as RabbitMQ's API escapes them, not for
// operator policies).
policy_ref parse_policy(const std::string& vhost, const std::string& name, const nlohmann::json& body,
                        policy_kind kind);

}  // namespace roost::admin
