#include "ctl/errors.hpp"

namespace roost::ctl {

void usage_error(const std::string& reason) {
  throw command_error(exit_code::usage, "Error (argument validation): " + reason);
}

void command_failed(exit_code code, const std::string& reason) { throw command_error(code, "Error:\n" + reason); }

void cannot(exit_code code, const std::string& reason) { throw command_error(code, "roostctl: " + reason); }

}  // namespace roost::ctl
