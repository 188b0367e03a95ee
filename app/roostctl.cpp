// roostctl: rabbitmqctl's verbs for the operator on the broker's host. It
// parses the command line, runs the command (ctl/verbs.hpp) against the
// broker's control socket in the data dir, prints what the command printed
// and exits with its code. It links only ctl/ and net/, never the broker.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "ctl/arguments.hpp"
#include "ctl/control_client.hpp"
#include "ctl/verbs.hpp"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a broker gone mid-request is an error reply, not a silent death
  roost::ctl::invocation inv = roost::ctl::parse_arguments(std::vector<std::string>(argv + 1, argv + argc));
  roost::ctl::control_client broker(inv.data_dir, std::chrono::seconds(inv.timeout_seconds));
  roost::ctl::outcome result = roost::ctl::execute(inv, broker);
  std::fwrite(result.out.data(), 1, result.out.size(), stdout);
  std::fflush(stdout);
  std::fwrite(result.err.data(), 1, result.err.size(), stderr);
  return result.exit_code;
}
