// roostctl's command line: see arguments.hpp. Hand-written, like the broker's.
#include "ctl/arguments.hpp"

#include <charconv>
#include <string_view>

namespace roost::ctl {

namespace {

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

enum class option {
  data_dir,
  quiet,
  silent,
  no_headers,
  timeout,
  help,
  version,
  vhost,
  priority,
  apply_to,
  if_empty,
  if_unused
};

struct option_name {
  std::string_view name;
  option which;
  bool has_value;
};

constexpr option_name option_names[] = {
    {"--data-dir", option::data_dir, true}, {"-q", option::quiet, false},
    {"--quiet", option::quiet, false},      {"-s", option::silent, false},
    {"--silent", option::silent, false},    {"--no-table-headers", option::no_headers, false},
    {"-t", option::timeout, true},          {"--timeout", option::timeout, true},
    {"-?", option::help, false},            {"-h", option::help, false},
    {"--help", option::help, false},        {"--version", option::version, false},
    {"-p", option::vhost, true},            {"--vhost", option::vhost, true},
    {"--priority", option::priority, true}, {"--apply-to", option::apply_to, true},
    {"-e", option::if_empty, false},        {"--if-empty", option::if_empty, false},
    {"-u", option::if_unused, false},       {"--if-unused", option::if_unused, false},
};

const option_name* find_option(std::string_view word) {
  for (const option_name& o : option_names)
    if (o.name == word) return &o;
  return nullptr;
}

// False when the value is not one the option takes.
bool apply(invocation& inv, const option_name& o, const std::string& value) {
  int number = 0;
  switch (o.which) {
    case option::data_dir: inv.data_dir = value; break;
    case option::quiet:
      if (inv.level == verbosity::normal) inv.level = verbosity::quiet;
      break;
    case option::silent: inv.level = verbosity::silent; break;
    case option::no_headers: inv.table_headers = false; break;
    case option::timeout:
      if (!parse_int(value, number) || number <= 0) return false;
      inv.timeout_seconds = number;
      break;
    case option::help: inv.help = true; break;
    case option::version: inv.version = true; break;
    case option::vhost: inv.vhost = value; break;
    case option::priority:
      if (!parse_int(value, number)) return false;
      inv.priority = value;
      break;
    case option::apply_to: inv.apply_to = value; break;
    case option::if_empty: inv.if_empty = true; break;
    case option::if_unused: inv.if_unused = true; break;
  }
  return true;
}

}  // namespace

invocation parse_arguments(const std::vector<std::string>& argv) {
  invocation inv;
  std::vector<std::string> positional;
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (options_done || word == "-" || word.empty() || word[0] != '-') {
      positional.push_back(word);
      continue;
    }
    if (word == "--") {
      options_done = true;
      continue;
    }
    std::size_t equals = word.starts_with("--") ? word.find('=') : std::string::npos;
    std::string name = word.substr(0, equals);
    std::string value = equals == std::string::npos ? std::string() : word.substr(equals + 1);
    const option_name* o = find_option(name);
    bool valid = o != nullptr && (o->has_value || equals == std::string::npos);
    if (valid && o->has_value && equals == std::string::npos) {
      valid = i + 1 < argv.size();
      if (valid) value = argv[++i];
    }
    if (!valid || !apply(inv, *o, value)) inv.invalid_options.push_back(name + " : " + value);
  }
  if (!positional.empty()) {
    inv.verb = positional.front();
    inv.args.assign(positional.begin() + 1, positional.end());
  }
  return inv;
}

}  // namespace roost::ctl
