// Users, permissions, topic permissions and limits as RabbitMQ's management
// API shows them, and read back from request bodies and definitions files
// with RabbitMQ's checks and reasons.
//
// The HTTP handlers (api_users, api_permissions, api_limits, api_vhosts) and
// the definitions import read entries through the same functions, so a user
// or a limit that one refuses the other refuses too, with the same words.
// Everything that reads throws api_error (400) and changes nothing. Pure code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "broker/access/access_control.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

// {"name", "password_hash", "hashing_algorithm", "tags", "limits"}: /api/users and definitions alike.
nlohmann::json user_json(const user_account& u);
// {"max-connections": n, "max-channels": n} with only the limits that are set.
nlohmann::json user_limits_json(const user_limits& l);
nlohmann::json vhost_limits_json(const vhost_limits& l);
nlohmann::json permission_json(std::string_view user, std::string_view vhost, const permission_set& p);
nlohmann::json topic_permission_json(std::string_view user, std::string_view vhost, std::string_view exchange,
                                     const topic_rules& t);

// "a, b" or ["a", "b"]: split at commas, spaces around each tag dropped, empty ones too.
std::vector<std::string> tags_from_json(const nlohmann::json& value, std::string_view field);

// A user as PUT /api/users/{name} or a definitions entry describes it,
// applied to the existing account (null for a new user): tags required
// ("tags_not_present"); password (hashed with SHA-256) or password_hash
// (with hashing_algorithm, default SHA-256), not both; neither clears an
// existing user's password, and a new user gets none (it cannot log in with
// a password). Given limits are merged into the existing ones.
user_account user_from_json(const nlohmann::json& body, const std::string& name, const user_account* existing);

// Limits by RabbitMQ name ("max-connections", ...). Each throws 400 with
// RabbitMQ's reason for an unknown name or a value that is not an integer.
void set_user_limit(user_limits& l, const std::string& name, const nlohmann::json& value);
void set_vhost_limit(vhost_limits& l, const std::string& name, const nlohmann::json& value);
// A whole {"max-queues": n, ...} object (a vhost-limits parameter): replaces every limit.
vhost_limits vhost_limits_from_json(const nlohmann::json& value);
user_limits merged_user_limits(user_limits l, const nlohmann::json& value);

// A vhost's default_queue_type from a body (PUT /api/vhosts, a definitions
// entry): classic, quorum or stream ("undefined": none), else 400; absent:
// `current`. Roost's queues are classic whatever it says; it is kept for
// tools that read it back.
std::string default_queue_type_from_json(const nlohmann::json& body, const std::string& current);

// A permission or topic permission expression from a body: present (else
// RabbitMQ's "[{key_missing,read}]"), a string, and a valid regular
// expression (else ["invalid_regexp", source, why]).
// Checks every key first so a body missing two names both, as RabbitMQ does.
void require_keys(const nlohmann::json& body, std::initializer_list<std::string_view> keys);
std::string expression(const nlohmann::json& body, std::string_view key);
// A topic permission expression, checked the way the broker compiles it:
// with {username} and {vhost} replaced, so that what is refused is what the
// broker could not compile for this user and vhost.
std::string topic_expression(const nlohmann::json& body, std::string_view key, std::string_view user,
                             std::string_view vhost);

}  // namespace roost::admin
