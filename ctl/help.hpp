// roostctl's help: the list of commands by group, one command's usage with
// its options and columns, and the usage line argument errors end with.
// Everything comes from the command table. Pure code.
#pragma once

#include <string>

#include "ctl/verbs.hpp"

namespace roost::ctl {

// "roostctl [global options] <verb> <its usage>".
std::string usage_line(const verb& v);
// Every command, grouped as rabbitmqctl's help groups them.
std::string general_help();
// One command: usage, summary, options, columns.
std::string verb_help(const verb& v);

}  // namespace roost::ctl
