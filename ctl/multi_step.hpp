// The commands that are more than one request, named by the command table
// (verb_table.cpp). Each keeps rabbitmqctl's meaning where the HTTP API
// has no single call for it:
//
// - add_user refuses an existing user (a PUT would silently change its
//   password), add_vhost leaves an existing vhost alone (a PUT would reset
//   its description): both read first.
// - change_password keeps the user's tags; set_user_tags keeps its
//   password (sent back as the hash the API shows): read, then PUT.
// - set_vhost_limits / set_user_limits replace all limits, as rabbitmqctl
//   does: a PUT per limit given, a DELETE per limit no longer given.
//   clear_*_limits deletes each one. Not atomic: a refused limit leaves the
//   ones before it applied.
// - clear_topic_permissions USER EXCHANGE: the API clears a user's topic
//   permissions on every exchange of the vhost at once, so the others are
//   put back afterwards (not atomic either).
// - delete_queue reads the queue first for rabbitmqctl's "deleted with N
//   ready messages"; close_connection sends its reason as X-Reason;
//   export/import_definitions move the API's JSON to or from a file; status
//   gathers the overview, the alarms and the vhosts.
#pragma once

#include "ctl/verbs.hpp"

namespace roost::ctl {

void run_add_user(command_context& ctx);
void run_change_password(command_context& ctx);
void run_set_user_tags(command_context& ctx);
void run_set_user_limits(command_context& ctx);
void run_clear_user_limits(command_context& ctx);
void run_clear_topic_permissions(command_context& ctx);
void run_add_vhost(command_context& ctx);
void run_set_vhost_limits(command_context& ctx);
void run_clear_vhost_limits(command_context& ctx);
void run_close_connection(command_context& ctx);
void run_delete_queue(command_context& ctx);
void run_export_definitions(command_context& ctx);
void run_import_definitions(command_context& ctx);
void run_status(command_context& ctx);

}  // namespace roost::ctl
