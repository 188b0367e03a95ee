// The commands that are more than one request, named by the command table
// (verb_table.cpp). Each keeps rabbitmqctl's meaning where the HTTP API
// has no single call for it:
//
// - add_user refuses an existing user (a PUT would silently change its
//   password), add_vhost leaves an existing vhost alone (a PUT would reset
//   its description): both read first.
// - change_password keeps the user's tags; set_user_tags keeps its
//   password (sent back as the hash the API shows): read, then PUT.
// - set_user_limits adds to a user's limits, set_vhost_limits replaces a
//   vhost's (rabbitmqctl 3.10 does each): a PUT per limit given, for a
//   vhost a DELETE per limit no longer given. clear_*_limits deletes them.
//   A refused limit puts back the limits read before, so a command
//   changes all or nothing (as long as nobody else changes them meanwhile).
// - clear_topic_permissions USER EXCHANGE: the API clears a user's topic
//   permissions on every exchange of the vhost at once, so the others are
//   put back afterwards (not atomic).
// - delete_queue reads the queue first, for rabbitmqctl's "deleted with N
//   ready messages" and its refusals of --if-empty / --if-unused;
//   close_connection sends its reason as X-Reason;
//   export/import_definitions move the API's JSON to or from a file
//   (check_*_path: rabbitmqctl's argument errors, before the broker is
//   reached); status gathers the overview, the alarms and the vhosts.
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
void check_export_path(const invocation& inv, environment& env);
void run_export_definitions(command_context& ctx);
void check_import_path(const invocation& inv, environment& env);
void run_import_definitions(command_context& ctx);
void run_status(command_context& ctx);
// Roost's: a queue's messages (multi_step_messages.cpp).
void run_list_messages(command_context& ctx);
void run_delete_messages(command_context& ctx);
void run_move_messages(command_context& ctx);
void run_redrive(command_context& ctx);
void run_redrive_status(command_context& ctx);
void run_list_scheduled(command_context& ctx);
void run_cancel_scheduled(command_context& ctx);

}  // namespace roost::ctl
