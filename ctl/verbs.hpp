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

#include "ctl/api_request.hpp"
#include "ctl/arguments.hpp"
#include "ctl/errors.hpp"
#include "ctl/table_format.hpp"

namespace roost::ctl {

inline constexpr std::size_t many = SIZE_MAX;

// Command options beyond the global ones.
enum verb_option : unsigned {
  takes_vhost = 1,   // -p / --vhost
  takes_policy = 2,  // --priority, --apply-to
};

// What a 404 from the broker means for a command.
enum class missing_means {
  reply,  // print the broker's reason (exit 69)
  user,   // the user named by the first argument: 'User "x" does not exist' (exit 67), as rabbitmqctl
};

struct command_context;

struct verb {
  std::string_view name;
  std::string_view group;    // help's heading
  std::string_view usage;    // what follows the name in a usage line
  std::string_view summary;  // one line for help
  std::size_t min_args = 0;
  std::size_t max_args = 0;  // `many` for column lists
  unsigned options = 0;      // verb_option bits
  // The informational line printed first (not with -q or -s); same
  // placeholders as path, not encoded. Empty: none, or run prints its own.
  std::string_view info;
  // A one-request command:
  std::string_view method;
  std::string_view path;
  std::string (*body)(const invocation&) = nullptr;  // the JSON body, or none
  const table_spec* table = nullptr;                 // a list: the reply's rows are printed
  // A command of several requests, instead of method and path.
  void (*run)(command_context&) = nullptr;
  missing_means not_found = missing_means::reply;
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

  // Sends a request; a reply outside 2xx ends the command with the
  // broker's reason (errors.hpp). Returns the reply's JSON (null when empty).
  nlohmann::json call(const api_request& request) const;
  // Sends a request and returns whatever comes back.
  api_reply call_any(const api_request& request) const;
  // An informational line (not printed with -q or -s).
  void info(const std::string& line) const;
  const std::string& arg(std::size_t i) const { return inv.args.at(i); }
};

// Ends a command for a reply outside 2xx, as command_context::call does.
[[noreturn]] void fail_for_reply(const verb& v, const invocation& inv, const api_reply& reply);

// Expands {0}..{9}, {vhost} and {priority} (default 0); with encode, each
// value percent-encoded as one path segment.
std::string expand(std::string_view pattern, const invocation& inv, bool encode);
// The request of a one-request command.
api_request build_request(const verb& v, const invocation& inv);
// Everything but RFC 3986's unreserved characters as %XX ("/" is %2F, the default vhost).
std::string percent_encode(std::string_view text);
// A JSON argument (a policy definition, limits): parsed, or command_error (data).
nlohmann::json parse_json_argument(const std::string& text);

}  // namespace roost::ctl
