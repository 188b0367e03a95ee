// How roostctl fails: rabbitmqctl's exit codes (the BSD sysexits values its
// CLI uses) and one exception that carries a code and the text for stderr.
//
//   64 usage        unknown command, wrong arguments, unknown column or option
//   65 data         a JSON argument or definitions file that does not parse, a file that cannot be read
//   67 no_user      the named user does not exist
//   69 unavailable  no broker on the data dir, or the broker refused the command
//   70 software     anything unexpected (the user already exists, a reply that is not JSON, a 5xx)
//   75 temp_fail    the broker did not answer within the timeout
//
// rabbitmqctl is not consistent between commands (a missing queue is 69 for
// purge_queue, 64 for delete_queue); roostctl applies the rule above to all.
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
  // what() is the complete text for stderr (without the final newline).
  command_error(exit_code code, std::string text) : std::runtime_error(std::move(text)), code_(code) {}
  exit_code code() const { return code_; }

 private:
  exit_code code_;
};

// rabbitmqctl's argument-validation error: "Error (argument validation): <reason>".
[[noreturn]] void usage_error(const std::string& reason);
// A command that failed: "Error:\n<reason>", as rabbitmqctl prints it.
[[noreturn]] void command_failed(exit_code code, const std::string& reason);
// roostctl itself cannot do its job (no broker, no answer): "roostctl: <reason>".
[[noreturn]] void cannot(exit_code code, const std::string& reason);

}  // namespace roost::ctl
