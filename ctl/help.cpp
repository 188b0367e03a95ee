// roostctl's help texts: see help.hpp.
#include "ctl/help.hpp"

#include <cstdio>

namespace roost::ctl {

namespace {

constexpr std::string_view global_usage =
    "roostctl [--data-dir <dir>] [-q|--quiet] [-s|--silent] [-t|--timeout <seconds>] [--no-table-headers]";

std::string joined(auto&& names, std::string_view separator) {
  std::string out;
  for (std::string_view name : names) out += (out.empty() ? "" : std::string(separator)) + std::string(name);
  return out;
}

}  // namespace

std::string usage_line(const verb& v) {
  return std::string(global_usage) + " " + std::string(v.name) + (v.usage.empty() ? "" : " ") + std::string(v.usage);
}

std::string general_help() {
  std::string out = "\nUsage\n\n" + std::string(global_usage) + " <command> [<command options>]\n\n";
  out +=
      "roostctl is the operator's tool on the broker's host: it talks to the roost broker\n"
      "running on --data-dir (default ./data, as roost's) through the control socket\n"
      "<data dir>/roost.ctl. Whoever may open that socket (mode 0600: the broker's user,\n"
      "and root) is the operator; no password is asked.\n\n"
      "Available commands:\n";
  std::string_view group;
  for (const verb& v : verbs()) {
    if (v.group != group) {
      group = v.group;
      out += "\n" + std::string(group) + ":\n\n";
    }
    char line[256];
    std::snprintf(line, sizeof line, "   %-29s %s\n", std::string(v.name).c_str(), std::string(v.summary).c_str());
    out += line;
  }
  return out + "\nUse 'roostctl help <command>' to learn more about a specific command\n";
}

std::string verb_help(const verb& v) {
  std::string out = "\nUsage\n\n" + usage_line(v) + "\n\n" + std::string(v.summary) + ".\n";
  if ((v.options & takes_vhost) != 0) out += "\n-p, --vhost <vhost>\n\tthe virtual host (default /)\n";
  if ((v.options & takes_policy) != 0)
    out +=
        "\n--priority <n>\n\tthe policy's priority (default 0)\n"
        "\n--apply-to queues|exchanges|all\n\twhat the policy applies to (default all)\n";
  if ((v.options & takes_conditions) != 0)
    out +=
        "\n-e, --if-empty\n\tonly if the queue has no ready messages\n"
        "\n-u, --if-unused\n\tonly if the queue has no consumers\n";
  if (v.table != nullptr && v.table->selectable) {
    std::vector<std::string_view> names;
    for (const column& c : v.table->columns) names.push_back(c.name);
    out += "\n<column>\n\tmust be one of " + joined(names, ", ") + "\n\t(default: " + joined(v.table->defaults, " ") +
           ")\n";
  }
  return out;
}

}  // namespace roost::ctl
