// The texts of roostctl's failures: see errors.hpp.
#include "ctl/errors.hpp"

namespace roost::ctl {

void usage_error(const std::string& reason) {
  throw argument_error(exit_code::usage, "Error (argument validation): " + reason);
}

void bad_file_argument(const std::string& reason) {
  throw argument_error(exit_code::data, "Error (argument validation): Bad argument: " + reason);
}

void command_failed(exit_code code, const std::string& reason) { throw command_error(code, "Error:\n" + reason); }

void cannot(exit_code code, const std::string& reason) { throw command_error(code, "Error: " + reason); }

}  // namespace roost::ctl
