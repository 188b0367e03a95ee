// roostctl's commands: one table (verb_table.cpp) of rabbitmqctl's verbs,
// each with its arguments, the admin API call it makes and how its reply
// prints; and execute(), which runs a parsed command line against an
// environment (the broker over the control socket, or a test's fake).
//
// Most commands are one request described by data: a method, a path
// pattern ("/api/permissions/{vhost}/{0}": {vhost} is -p, {0} the first
// argument, each percent-encoded), an optional JSON body builder, and for
// lists the columns. Commands that need several requests (read a user
// before changing its tags, replace all of a vhost's limits) name a run
// function instead (multi_step.hpp). Pure code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "ctl/arguments.hpp"
#include "ctl/environment.hpp"
#include "ctl/errors.hpp"
#include "ctl/table_format.hpp"

namespace roost::ctl {

inline constexpr std::size_t many = SIZE_MAX;

// Command options beyond the global ones.
enum verb_option : unsigned {
  takes_vhost = 1,       // -p / --vhost
  takes_policy = 2,      // --priority, --apply-to
  takes_conditions = 4,  // --if-empty / -e, --if-unused / -u
};

// How a refusal reads and ends: rabbitmqctl words the same failure
// differently from one command to the next (a missing user is
// 'User "bob" does not exist' for delete_user, 'User bob does not exist'
// for set_permissions), so each command names its own. text is a pattern
// as in verb::path, complete with rabbitmqctl's "Error:\n" where it prints
// one. {} is not set; {"", exit_code::ok} ends the command quietly.
struct refusal {
  std::string_view text = {};
  exit_code code = exit_code::unavailable;
  bool set() const { return !text.empty() || code == exit_code::ok; }
};

struct command_context;

struct verb {
  std::string_view name = {};
  std::string_view group = {};    // help's heading
  std::string_view usage = {};    // what follows the name in a usage line
  std::string_view summary = {};  // one line for help
  std::size_t min_args = 0;
  std::size_t max_args = 0;  // `many` for column lists
  unsigned options = 0;      // verb_option bits
  // The informational line printed first (not with -q or -s); same
  // placeholders as path, not encoded. Empty: none, or run prints its own.
  std::string_view info = {};
  // A one-request command:
  std::string_view method = {};
  std::string_view path = {};
  std::string (*body)(const invocation&) = nullptr;  // the JSON body, or none
  const table_spec* table = nullptr;                 // a list: the reply's rows are printed
  // A command of several requests, instead of method and path.
  void (*run)(command_context&) = nullptr;
  // Checks of file arguments, before the broker is reached (throws argument_error).
  void (*check)(const invocation&, environment&) = nullptr;
  // When the broker refuses the command (4xx): a user named by the first
  // argument that does not exist (checked first, as rabbitmqctl does), then
  // a -p vhost that does not exist, then any other 404. Anything else:
  // "Error:\n" and the broker's reason, with refused_code.
  refusal missing_user = {};
  refusal missing_vhost = {};
  refusal not_found = {};
  exit_code refused_code = exit_code::unavailable;
};

// The table, in help's order.
std::span<const verb> verbs();
const verb* find_verb(std::string_view name);

// What a command printed and how it ends.
struct outcome {
  std::string out;
  std::string err;
  int exit_code = 0;
};

// Runs a parsed command line. Help, --version and argument errors need no
// broker; every other command connects before it prints anything.
outcome execute(const invocation& inv, environment& env);

// What a run function works with.
struct command_context {
  const invocation& inv;
  const verb& v;
  environment& env;
  std::string& out;

  // Sends a request; a reply outside 2xx ends the command (refused).
  // Returns the reply's JSON (null when empty).
  nlohmann::json call(const api_request& request) const;
  // Sends a request and returns whatever comes back.
  api_reply call_any(const api_request& request) const;
  // Ends the command for a reply outside 2xx, as the verb's refusals say
  // (refusal.cpp); may ask the broker whether the user and vhost exist.
  [[noreturn]] void refused(const api_reply& reply) const;
  // An informational line (not printed with -q or -s).
  void info(const std::string& line) const;
  const std::string& arg(std::size_t i) const { return inv.args.at(i); }
};

// Expands {0}..{9}, {vhost} and {priority} (default 0); with encode, each
// value percent-encoded as one path segment.
std::string expand(std::string_view pattern, const invocation& inv, bool encode);
// The request of a one-request command.
api_request build_request(const verb& v, const invocation& inv);
// A request without headers, as most steps of a multi-request command send.
api_request request(std::string method, std::string target, std::string body = {});
// Everything but RFC 3986's unreserved characters as %XX ("/" is %2F, the default vhost).
std::string percent_encode(std::string_view text);
// A JSON argument (a policy definition, limits): parsed, or command_error (data).
nlohmann::json parse_json_argument(const std::string& text);

}  // namespace roost::ctl
