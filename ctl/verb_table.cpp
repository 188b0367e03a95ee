// The command table: rabbitmqctl's verbs, their arguments, the admin API
// call each makes (RabbitMQ's management paths) and the columns of the
// lists. Grouped as rabbitmqctl's help groups them.
#include <array>

#include "ctl/multi_step.hpp"
#include "ctl/verbs.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

using sv = std::string_view;

// ---- columns: rabbitmqctl's names, the API's fields

constexpr column user_columns[] = {{"user", "name"}, {"tags", "tags", cell_style::tags}};
constexpr sv user_defaults[] = {"user", "tags"};
constexpr table_spec users_table{user_columns, user_defaults, false};

constexpr column vhost_columns[] = {{"name", "name"},
                                    {"description", "description"},
                                    {"tags", "tags", cell_style::tags},
                                    {"tracing", "tracing"},
                                    {"default_queue_type", "default_queue_type"}};
constexpr sv vhost_defaults[] = {"name"};
constexpr table_spec vhosts_table{vhost_columns, vhost_defaults};

constexpr column permission_columns[] = {
    {"user", "user"}, {"configure", "configure"}, {"write", "write"}, {"read", "read"}};
constexpr sv permission_defaults[] = {"user", "configure", "write", "read"};
constexpr table_spec permissions_table{permission_columns, permission_defaults, false};

constexpr column user_permission_columns[] = {
    {"vhost", "vhost"}, {"configure", "configure"}, {"write", "write"}, {"read", "read"}};
constexpr sv user_permission_defaults[] = {"vhost", "configure", "write", "read"};
constexpr table_spec user_permissions_table{user_permission_columns, user_permission_defaults, false};

constexpr column topic_permission_columns[] = {
    {"user", "user"}, {"exchange", "exchange"}, {"write", "write"}, {"read", "read"}};
constexpr sv topic_permission_defaults[] = {"user", "exchange", "write", "read"};
constexpr table_spec topic_permissions_table{topic_permission_columns, topic_permission_defaults, false};

constexpr column policy_columns[] = {{"vhost", "vhost"},       {"name", "name"},
                                     {"pattern", "pattern"},   {"apply-to", "apply-to"},
                                     {"definition", "definition"}, {"priority", "priority"}};
constexpr sv policy_defaults[] = {"vhost", "name", "pattern", "apply-to", "definition", "priority"};
constexpr table_spec policies_table{policy_columns, policy_defaults, false};

constexpr column queue_columns[] = {{"name", "name"},
                                    {"messages", "messages"},
                                    {"messages_ready", "messages_ready"},
                                    {"messages_unacknowledged", "messages_unacknowledged"},
                                    {"consumers", "consumers"},
                                    {"durable", "durable"},
                                    {"auto_delete", "auto_delete"},
                                    {"exclusive", "exclusive"},
                                    {"arguments", "arguments", cell_style::term},
                                    {"policy", "policy"},
                                    {"state", "state"},
                                    {"type", "type"}};
constexpr sv queue_defaults[] = {"name", "messages"};
constexpr table_spec queues_table{queue_columns, queue_defaults};

constexpr column message_columns[] = {{"id", "id"},
                                      {"state", "state"},
                                      {"position", "position"},
                                      {"exchange", "exchange"},
                                      {"routing_key", "routing_key"},
                                      {"redelivered", "redelivered"},
                                      {"payload_bytes", "payload_bytes"},
                                      {"payload", "payload"}};
constexpr sv message_defaults[] = {"id", "state", "position", "exchange", "routing_key", "redelivered",
                                   "payload_bytes", "payload"};
constexpr table_spec messages_table{message_columns, message_defaults, false};

constexpr column origin_columns[] = {
    {"queue", "queue"}, {"reason", "reason"}, {"exchange", "exchange"}, {"messages", "messages"}};
constexpr sv origin_defaults[] = {"queue", "reason", "exchange", "messages"};
constexpr table_spec origins_table{origin_columns, origin_defaults, false};

constexpr column scheduled_columns[] = {{"id", "id"},
                                        {"due_at", "due_at"},
                                        {"exchange", "exchange"},
                                        {"routing_key", "routing_key"},
                                        {"queues", "queues", cell_style::tags},
                                        {"payload", "payload"}};
constexpr sv scheduled_defaults[] = {"id", "due_at", "exchange", "routing_key", "queues", "payload"};
constexpr table_spec scheduled_table{scheduled_columns, scheduled_defaults, false};

constexpr column exchange_columns[] = {{"name", "name"},
                                       {"type", "type"},
                                       {"durable", "durable"},
                                       {"auto_delete", "auto_delete"},
                                       {"internal", "internal"},
                                       {"arguments", "arguments", cell_style::term},
                                       {"policy", "policy"}};
constexpr sv exchange_defaults[] = {"name", "type"};
constexpr table_spec exchanges_table{exchange_columns, exchange_defaults};

constexpr column binding_columns[] = {{"source_name", "source"},
                                      {"source_kind", "", cell_style::plain, "exchange"},
                                      {"destination_name", "destination"},
                                      {"destination_kind", "destination_type"},
                                      {"routing_key", "routing_key"},
                                      {"arguments", "arguments", cell_style::term}};
constexpr sv binding_defaults[] = {"source_name",      "source_kind", "destination_name",
                                   "destination_kind", "routing_key", "arguments"};
constexpr table_spec bindings_table{binding_columns, binding_defaults};

// Roost has no Erlang pids: "pid" columns show the connection's or channel's
// name, which is also what close_connection takes.
constexpr column connection_columns[] = {{"pid", "name"},
                                         {"name", "name"},
                                         {"user", "user"},
                                         {"vhost", "vhost"},
                                         {"peer_host", "peer_host"},
                                         {"peer_port", "peer_port"},
                                         {"state", "state"},
                                         {"channels", "channels"},
                                         {"protocol", "protocol"},
                                         {"timeout", "timeout"},
                                         {"frame_max", "frame_max"},
                                         {"channel_max", "channel_max"},
                                         {"connected_at", "connected_at"}};
constexpr sv connection_defaults[] = {"user", "peer_host", "peer_port", "state"};
constexpr table_spec connections_table{connection_columns, connection_defaults};

constexpr column channel_columns[] = {{"pid", "name"},
                                      {"name", "name"},
                                      {"connection", "connection_details.name"},
                                      {"number", "number"},
                                      {"user", "user"},
                                      {"vhost", "vhost"},
                                      {"consumer_count", "consumer_count"},
                                      {"messages_unacknowledged", "messages_unacknowledged"},
                                      {"prefetch_count", "prefetch_count"},
                                      {"global_prefetch_count", "global_prefetch_count"},
                                      {"confirm", "confirm"},
                                      {"transactional", "transactional"}};
constexpr sv channel_defaults[] = {"pid", "user", "consumer_count", "messages_unacknowledged"};
constexpr table_spec channels_table{channel_columns, channel_defaults};

constexpr column consumer_columns[] = {{"queue_name", "queue.name"},
                                       {"channel_pid", "channel_details.name"},
                                       {"consumer_tag", "consumer_tag"},
                                       {"ack_required", "ack_required"},
                                       {"prefetch_count", "prefetch_count"},
                                       {"active", "active"},
                                       {"activity_status", "activity_status"},
                                       {"arguments", "arguments", cell_style::term}};
constexpr sv consumer_defaults[] = {"queue_name",     "channel_pid", "consumer_tag", "ack_required",
                                    "prefetch_count", "active",      "arguments"};
constexpr table_spec consumers_table{consumer_columns, consumer_defaults};

// ---- request bodies

std::string permissions_body(const invocation& inv) {
  return json{{"configure", inv.args[1]}, {"write", inv.args[2]}, {"read", inv.args[3]}}.dump();
}

std::string topic_permissions_body(const invocation& inv) {
  return json{{"exchange", inv.args[1]}, {"write", inv.args[2]}, {"read", inv.args[3]}}.dump();
}

std::string policy_body(const invocation& inv) {
  return json{{"pattern", inv.args[1]},
              {"definition", parse_json_argument(inv.args[2])},
              {"priority", std::stoi(inv.priority.value_or("0"))},
              {"apply-to", inv.apply_to.value_or("all")}}
      .dump();
}

// ---- how refusals read (rabbitmqctl's words differ from command to command)

constexpr refusal user_quoted{"Error:\nUser \"{0}\" does not exist", exit_code::no_user};
constexpr refusal user_plain{"Error:\nUser {0} does not exist", exit_code::no_user};
constexpr refusal vhost_bare{"Virtual host '{vhost}' does not exist", exit_code::data};
constexpr refusal vhost_error{"Error:\nVirtual host {vhost} does not exist", exit_code::unavailable};
// Nothing printed, exit 0: rabbitmqctl lists nothing for a missing vhost,
// and clearing what is not there succeeds.
constexpr refusal ends_quietly{"", exit_code::ok};
constexpr refusal parameter_missing{"Error:\nParameter does not exist", exit_code::unavailable};

// ---- the table

constexpr verb table[] = {
    {.name = "help", .group = "Help", .usage = "[<command>]",
     .summary = "Displays usage information for a command", .max_args = 1},

    // Users
    {.name = "add_user", .group = "Users", .usage = "<username> [<password>]",
     .summary = "Creates a new user (password from standard input when not given). It has no permissions "
                "for any virtual host until given some",
     .min_args = 1, .max_args = 2, .info = "Adding user \"{0}\" ...", .run = run_add_user},
    {.name = "delete_user", .group = "Users", .usage = "<username>", .summary = "Removes a user",
     .min_args = 1, .max_args = 1, .info = "Deleting user \"{0}\" ...", .method = "DELETE", .path = "/api/users/{0}",
     .missing_user = user_quoted},
    {.name = "change_password", .group = "Users", .usage = "<username> [<password>]",
     .summary = "Changes the user password (from standard input when not given)", .min_args = 1, .max_args = 2,
     .info = "Changing password for user \"{0}\" ...", .run = run_change_password, .missing_user = user_quoted},
    {.name = "set_user_tags", .group = "Users", .usage = "<username> <tag> [...]", .summary = "Sets user tags",
     .min_args = 1, .max_args = many, .run = run_set_user_tags, .missing_user = user_quoted},
    {.name = "list_users", .group = "Users", .summary = "List user names and tags", .info = "Listing users ...",
     .method = "GET", .path = "/api/users", .table = &users_table},
    {.name = "set_user_limits", .group = "Users", .usage = "<username> <definition>",
     .summary = "Sets user limits (a JSON object: max-connections, max-channels; those not named are kept)",
     .min_args = 2, .max_args = 2, .info = "Setting user limits to \"{1}\" for user \"{0}\" ...",
     .run = run_set_user_limits, .missing_user = user_quoted},
    {.name = "clear_user_limits", .group = "Users", .usage = "<username> <limit> | all",
     .summary = "Clears user connection/channel limits", .min_args = 2, .max_args = 2,
     .run = run_clear_user_limits, .missing_user = user_quoted, .not_found = ends_quietly},

    // Access control
    {.name = "set_permissions", .group = "Access Control", .usage = "[-p <vhost>] <username> <conf> <write> <read>",
     .summary = "Sets user permissions for a vhost", .min_args = 4, .max_args = 4, .options = takes_vhost,
     .info = "Setting permissions for user \"{0}\" in vhost \"{vhost}\" ...", .method = "PUT",
     .path = "/api/permissions/{vhost}/{0}", .body = permissions_body, .missing_user = user_plain,
     .missing_vhost = vhost_error},
    {.name = "clear_permissions", .group = "Access Control", .usage = "[-p <vhost>] <username>",
     .summary = "Revokes user permissions for a vhost", .min_args = 1, .max_args = 1, .options = takes_vhost,
     .info = "Clearing permissions for user \"{0}\" in vhost \"{vhost}\" ...", .method = "DELETE",
     .path = "/api/permissions/{vhost}/{0}", .missing_user = user_plain, .missing_vhost = vhost_error,
     .not_found = ends_quietly},
    {.name = "list_permissions", .group = "Access Control", .usage = "[-p <vhost>]",
     .summary = "Lists user permissions in a virtual host", .options = takes_vhost,
     .info = "Listing permissions for vhost \"{vhost}\" ...", .method = "GET",
     .path = "/api/vhosts/{vhost}/permissions", .table = &permissions_table, .missing_vhost = vhost_bare},
    {.name = "list_user_permissions", .group = "Access Control", .usage = "<username>",
     .summary = "Lists permissions of a user across all virtual hosts", .min_args = 1, .max_args = 1,
     .info = "Listing permissions for user \"{0}\" ...", .method = "GET", .path = "/api/users/{0}/permissions",
     .table = &user_permissions_table, .missing_user = user_quoted},
    {.name = "set_topic_permissions", .group = "Access Control",
     .usage = "[-p <vhost>] <username> <exchange> <write> <read>",
     .summary = "Sets user topic permissions for an exchange", .min_args = 4, .max_args = 4,
     .options = takes_vhost, .info = "Setting topic permissions on \"{1}\" for user \"{0}\" in vhost \"{vhost}\" ...",
     .method = "PUT", .path = "/api/topic-permissions/{vhost}/{0}", .body = topic_permissions_body,
     .missing_user = user_plain, .missing_vhost = vhost_error},
    {.name = "clear_topic_permissions", .group = "Access Control", .usage = "[-p <vhost>] <username> [<exchange>]",
     .summary = "Clears user topic permissions for a vhost or exchange", .min_args = 1, .max_args = 2,
     .options = takes_vhost, .run = run_clear_topic_permissions, .missing_user = user_plain,
     .missing_vhost = vhost_error, .not_found = ends_quietly},
    {.name = "list_topic_permissions", .group = "Access Control", .usage = "[-p <vhost>]",
     .summary = "Lists topic permissions in a virtual host", .options = takes_vhost,
     .info = "Listing topic permissions for vhost \"{vhost}\" ...", .method = "GET",
     .path = "/api/vhosts/{vhost}/topic-permissions", .table = &topic_permissions_table,
     .missing_vhost = vhost_bare},
    {.name = "list_vhosts", .group = "Access Control", .usage = "[<column> ...]", .summary = "Lists virtual hosts",
     .max_args = many, .info = "Listing vhosts ...", .method = "GET", .path = "/api/vhosts", .table = &vhosts_table},

    // Monitoring
    {.name = "list_queues", .group = "Monitoring", .usage = "[-p <vhost>] [<column> ...]",
     .summary = "Lists queues and their properties", .max_args = many, .options = takes_vhost,
     .info = "Timeout: {timeout} seconds ...\nListing queues for vhost {vhost} ...", .method = "GET",
     .path = "/api/queues/{vhost}", .table = &queues_table, .missing_vhost = ends_quietly},
    {.name = "list_exchanges", .group = "Monitoring", .usage = "[-p <vhost>] [<column> ...]",
     .summary = "Lists exchanges", .max_args = many, .options = takes_vhost,
     .info = "Listing exchanges for vhost {vhost} ...", .method = "GET", .path = "/api/exchanges/{vhost}",
     .table = &exchanges_table, .missing_vhost = ends_quietly},
    {.name = "list_bindings", .group = "Monitoring", .usage = "[-p <vhost>] [<column> ...]",
     .summary = "Lists all bindings on a vhost", .max_args = many, .options = takes_vhost,
     .info = "Listing bindings for vhost {vhost}...", .method = "GET", .path = "/api/bindings/{vhost}",
     .table = &bindings_table, .missing_vhost = ends_quietly},
    {.name = "list_connections", .group = "Monitoring", .usage = "[<column> ...]",
     .summary = "Lists AMQP 0-9-1 connections", .max_args = many, .info = "Listing connections ...",
     .method = "GET", .path = "/api/connections", .table = &connections_table},
    {.name = "list_channels", .group = "Monitoring", .usage = "[<column> ...]",
     .summary = "Lists all channels", .max_args = many, .info = "Listing channels ...", .method = "GET",
     .path = "/api/channels", .table = &channels_table},
    {.name = "list_consumers", .group = "Monitoring", .usage = "[-p <vhost>] [<column> ...]",
     .summary = "Lists all consumers for a vhost", .max_args = many, .options = takes_vhost,
     .info = "Listing consumers in vhost {vhost} ...", .method = "GET", .path = "/api/consumers/{vhost}",
     .table = &consumers_table, .missing_vhost = ends_quietly},
    {.name = "status", .group = "Monitoring", .summary = "Displays status of the broker", .run = run_status},

    // Policies
    {.name = "set_policy", .group = "Policies",
     .usage = "[-p <vhost>] [--priority <priority>] [--apply-to <apply-to>] <name> <pattern> <definition>",
     .summary = "Sets or updates a policy", .min_args = 3, .max_args = 3, .options = takes_vhost | takes_policy,
     .info = "Setting policy \"{0}\" for pattern \"{1}\" to \"{2}\" with priority \"{priority}\" for vhost "
             "\"{vhost}\" ...",
     .method = "PUT", .path = "/api/policies/{vhost}/{0}", .body = policy_body, .missing_vhost = vhost_bare},
    {.name = "clear_policy", .group = "Policies", .usage = "[-p <vhost>] <name>",
     .summary = "Clears (removes) a policy", .min_args = 1, .max_args = 1, .options = takes_vhost,
     .info = "Clearing policy \"{0}\" on vhost \"{vhost}\" ...", .method = "DELETE",
     .path = "/api/policies/{vhost}/{0}", .not_found = parameter_missing},
    {.name = "list_policies", .group = "Policies", .usage = "[-p <vhost>]",
     .summary = "Lists all policies in a virtual host", .options = takes_vhost,
     .info = "Listing policies for vhost \"{vhost}\" ...", .method = "GET", .path = "/api/policies/{vhost}",
     .table = &policies_table, .missing_vhost = vhost_bare},
    {.name = "set_operator_policy", .group = "Policies",
     .usage = "[-p <vhost>] [--priority <priority>] [--apply-to <apply-to>] <name> <pattern> <definition>",
     .summary = "Sets an operator policy that overrides a subset of arguments in user policies", .min_args = 3,
     .max_args = 3, .options = takes_vhost | takes_policy,
     .info = "Setting operator policy override \"{0}\" for pattern \"{1}\" to \"{2}\" with priority "
             "\"{priority}\" for vhost \"{vhost}\" ...",
     .method = "PUT", .path = "/api/operator-policies/{vhost}/{0}", .body = policy_body,
     .missing_vhost = vhost_bare},
    {.name = "clear_operator_policy", .group = "Policies", .usage = "[-p <vhost>] <name>",
     .summary = "Clears an operator policy", .min_args = 1, .max_args = 1, .options = takes_vhost,
     .info = "Clearing operator policy \"{0}\" on vhost \"{vhost}\" ...", .method = "DELETE",
     .path = "/api/operator-policies/{vhost}/{0}", .not_found = parameter_missing},
    {.name = "list_operator_policies", .group = "Policies", .usage = "[-p <vhost>]",
     .summary = "Lists operator policy overrides for a virtual host", .options = takes_vhost,
     .info = "Listing operator policy overrides for vhost \"{vhost}\" ...", .method = "GET",
     .path = "/api/operator-policies/{vhost}", .table = &policies_table, .missing_vhost = vhost_bare},

    // Virtual hosts
    {.name = "add_vhost", .group = "Virtual hosts", .usage = "<vhost>", .summary = "Creates a virtual host",
     .min_args = 1, .max_args = 1, .info = "Adding vhost \"{0}\" ...", .run = run_add_vhost},
    {.name = "delete_vhost", .group = "Virtual hosts", .usage = "<vhost>",
     .summary = "Deletes a virtual host and everything in it", .min_args = 1, .max_args = 1,
     .info = "Deleting vhost \"{0}\" ...", .method = "DELETE", .path = "/api/vhosts/{0}",
     .not_found = {"Virtual host '{0}' does not exist", exit_code::data}},
    {.name = "set_vhost_limits", .group = "Virtual hosts", .usage = "[-p <vhost>] <definition>",
     .summary = "Sets virtual host limits (a JSON object: max-connections, max-queues); replaces the previous ones",
     .min_args = 1, .max_args = 1, .options = takes_vhost,
     .info = "Setting vhost limits to \"{0}\" for vhost \"{vhost}\" ...", .run = run_set_vhost_limits,
     .missing_vhost = vhost_bare},
    {.name = "clear_vhost_limits", .group = "Virtual hosts", .usage = "[-p <vhost>]",
     .summary = "Clears virtual host limits", .options = takes_vhost, .info = "Clearing vhost \"{vhost}\" limits ...",
     .run = run_clear_vhost_limits, .missing_vhost = vhost_bare},

    // Definitions
    {.name = "export_definitions", .group = "Definitions", .usage = "<file_path | \"-\">",
     .summary = "Exports definitions in JSON", .min_args = 1, .max_args = 1, .run = run_export_definitions,
     .check = check_export_path},
    {.name = "import_definitions", .group = "Definitions", .usage = "<file_path | \"-\">",
     .summary = "Imports definitions in JSON (checked whole: a refused file changes nothing)", .min_args = 1,
     .max_args = 1, .run = run_import_definitions, .check = check_import_path, .refused_code = exit_code::data},

    // Operations
    {.name = "close_connection", .group = "Operations", .usage = "<connection name> <explanation>",
     .summary = "Closes the connection of that name (as list_connections name prints it)", .min_args = 2,
     .max_args = 2, .info = "Closing connection {0}, reason: {1}...", .run = run_close_connection},

    // Queues
    {.name = "delete_queue", .group = "Queues", .usage = "[-p <vhost>] [--if-empty|-e] [--if-unused|-u] <queue_name>",
     .summary = "Deletes a queue", .min_args = 1, .max_args = 1, .options = takes_vhost | takes_conditions,
     .run = run_delete_queue, .not_found = {"Error:\nQueue not found", exit_code::usage},
     .refused_code = exit_code::usage},
    {.name = "purge_queue", .group = "Queues", .usage = "[-p <vhost>] <queue>",
     .summary = "Purges a queue (removes all messages in it)", .min_args = 1, .max_args = 1, .options = takes_vhost,
     .info = "Purging queue '{0}' in vhost '{vhost}' ...", .method = "DELETE",
     .path = "/api/queues/{vhost}/{0}/contents"},
    {.name = "list_messages", .group = "Queues", .usage = "[-p <vhost>] <queue> [<name>=<value> ...]",
     .summary = "Lists a queue's messages without taking them (offset=, limit=, state=, filters as the API's)",
     .min_args = 1, .max_args = many, .options = takes_vhost, .table = &messages_table, .run = run_list_messages},
    {.name = "delete_messages", .group = "Queues", .usage = "[-p <vhost>] <queue> (<id> ... | <name>=<value> ...)",
     .summary = "Deletes chosen ready messages, by id or by conditions (max=N caps them)", .min_args = 2,
     .max_args = many, .options = takes_vhost, .run = run_delete_messages},
    {.name = "move_messages", .group = "Queues",
     .usage = "[-p <vhost>] <queue> <target_queue> (<id> ... | <name>=<value> ...)",
     .summary = "Moves chosen ready messages to another queue, by id or by conditions", .min_args = 3,
     .max_args = many, .options = takes_vhost, .run = run_move_messages},
    {.name = "redrive", .group = "Queues", .usage = "[-p <vhost>] <queue> [<name>=<value> ...]",
     .summary = "Sends dead-lettered messages back where they died (reason=, origin_queue=, queue=, exchange=, "
                "routing_key=, max=, max_rate=)",
     .min_args = 1, .max_args = many, .options = takes_vhost, .run = run_redrive},
    {.name = "redrive_status", .group = "Queues", .usage = "[-p <vhost>] <queue>",
     .summary = "Shows the last redrive of a queue and the dead-lettered messages it holds, by origin",
     .min_args = 1, .max_args = 1, .options = takes_vhost, .table = &origins_table, .run = run_redrive_status},
    {.name = "list_scheduled", .group = "Queues", .usage = "[-p <vhost>] [<exchange>] [<name>=<value> ...]",
     .summary = "Lists messages delaying exchanges hold, by due time (offset=, limit=, filters as the API's)",
     .max_args = many, .options = takes_vhost, .table = &scheduled_table, .run = run_list_scheduled},
    {.name = "cancel_scheduled", .group = "Queues", .usage = "[-p <vhost>] (<id> ... | <name>=<value> ...)",
     .summary = "Cancels scheduled messages by id or by conditions (exchange= limits them to one exchange)",
     .min_args = 1, .max_args = many, .options = takes_vhost, .run = run_cancel_scheduled},
};

}  // namespace

std::span<const verb> verbs() { return table; }

}  // namespace roost::ctl
