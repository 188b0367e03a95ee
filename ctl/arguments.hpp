// roostctl's command line: global flags, the command, its options and its
// positional arguments (rabbitmqctl's, plus --data-dir). As with
// rabbitmqctl, options may come before or after the command and between
// its arguments ("--name=value" or "--name value"); "--" ends them, and
// "-" alone is an argument (standard input). Pure code.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace roost::ctl {

// -q: no informational lines; -s: neither those nor table headers.
enum class verbosity { normal, quiet, silent };

struct invocation {
  std::string data_dir = "./data";  // --data-dir, as the broker's default
  verbosity level = verbosity::normal;
  bool table_headers = true;  // --no-table-headers
  int timeout_seconds = 60;   // -t / --timeout: per request to the broker
  bool help = false;          // -? / --help
  bool version = false;       // --version
  std::string verb;           // empty: none given
  std::vector<std::string> args;
  // Command options; which command takes which is checked against its entry in the command table.
  std::optional<std::string> vhost;     // -p / --vhost
  std::optional<std::string> priority;  // --priority (an integer)
  std::optional<std::string> apply_to;  // --apply-to
  bool if_empty = false;                // -e / --if-empty (delete_queue)
  bool if_unused = false;               // -u / --if-unused (delete_queue)
  // Unknown options, options without their value and values an option does
  // not take, as rabbitmqctl lists them ("--priority : x"); reported with
  // the command's usage once the command is known.
  std::vector<std::string> invalid_options;

  const std::string& vh() const {
    static const std::string default_vhost = "/";
    return vhost ? *vhost : default_vhost;
  }
  bool informational() const { return level == verbosity::normal; }
};

// argv without the program name. Never fails: see invalid_options.
invocation parse_arguments(const std::vector<std::string>& argv);

}  // namespace roost::ctl
