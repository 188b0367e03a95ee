// How roostctl fails: rabbitmqctl's exit codes (the BSD sysexits values its
// CLI uses) and the exceptions that carry a code and the text for stderr.
//
//   64 usage        unknown command, wrong arguments, unknown column or option
//   65 data         a definitions file that is missing or does not parse, a
//                   missing vhost where rabbitmqctl says "Virtual host 'x' does not exist"
//   67 no_user      the named user does not exist
//   69 unavailable  no broker on the data dir, or the broker refused the command
//   70 software     anything unexpected (the user already exists, a reply that is not JSON, a 5xx)
//   75 temp_fail    the broker did not answer within the timeout
//
// rabbitmqctl is not consistent between commands (a missing queue is 69 for
// purge_queue, 64 for delete_queue); the command table keeps its code per
// command (verbs.hpp, struct refusal).
#pragma once

#include <stdexcept>
#include <string>

namespace roost::ctl {

enum class exit_code : int {
  ok = 0,
  usage = 64,
  data = 65,
  no_user = 67,
  unavailable = 69,
  software = 70,
  temp_fail = 75,
};

class command_error : public std::runtime_error {
 public:
  // what() is the complete text for stderr (without the final newline);
  // empty for a command that ends quietly (exit_code::ok).
  command_error(exit_code code, std::string text) : std::runtime_error(std::move(text)), code_(code) {}
  exit_code code() const { return code_; }

 private:
  exit_code code_;
};

// An argument rejected before any request: its text is followed by the command's usage.
class argument_error : public command_error {
 public:
  using command_error::command_error;
};

// rabbitmqctl's argument-validation error: "Error (argument validation): <reason>", exit 64.
[[noreturn]] void usage_error(const std::string& reason);
// The same for a file argument that is not there: "... Bad argument: <reason>", exit 65.
[[noreturn]] void bad_file_argument(const std::string& reason);
// A command that failed: "Error:\n<reason>", as rabbitmqctl prints it.
[[noreturn]] void command_failed(exit_code code, const std::string& reason);
// roostctl cannot reach the broker, or loses it: "Error: <reason>".
[[noreturn]] void cannot(exit_code code, const std::string& reason);

}  // namespace roost::ctl
