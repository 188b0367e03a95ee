// roostctl's command line (ctl/arguments.hpp): rabbitmqctl's option
// placement, values, and how bad options are collected for the command's
// usage error instead of failing before the command is known.
#include <doctest/doctest.h>

#include "ctl/arguments.hpp"

using namespace roost::ctl;

namespace {

invocation parse(std::vector<std::string> argv) { return parse_arguments(argv); }

}  // namespace

TEST_CASE("ctl arguments: defaults are the broker's data dir, vhost /, headers, 60 s") {
  invocation inv = parse({"list_users"});
  CHECK(inv.verb == "list_users");
  CHECK(inv.args.empty());
  CHECK(inv.data_dir == "./data");
  CHECK(inv.vh() == "/");
  CHECK_FALSE(inv.vhost.has_value());
  CHECK(inv.level == verbosity::normal);
  CHECK(inv.informational());
  CHECK(inv.table_headers);
  CHECK(inv.timeout_seconds == 60);
  CHECK(inv.invalid_options.empty());
}

TEST_CASE("ctl arguments: options before, after and between the arguments, as rabbitmqctl takes them") {
  invocation inv =
      parse({"--data-dir", "/srv/roost", "set_permissions", "bob", "-p", "shop", "c", "w", "--quiet", "r"});
  CHECK(inv.verb == "set_permissions");
  CHECK(inv.args == std::vector<std::string>{"bob", "c", "w", "r"});
  CHECK(inv.data_dir == "/srv/roost");
  CHECK(inv.vh() == "shop");
  CHECK(inv.level == verbosity::quiet);
  CHECK_FALSE(inv.informational());
}

TEST_CASE("ctl arguments: --name=value, and -- ends the options so a value may start with a dash") {
  invocation inv = parse({"--vhost=a=b", "--timeout=5", "set_policy", "--", "-p", "--priority", "{}"});
  CHECK(inv.vh() == "a=b");
  CHECK(inv.timeout_seconds == 5);
  CHECK(inv.args == std::vector<std::string>{"-p", "--priority", "{}"});
  CHECK_FALSE(inv.priority.has_value());
}

TEST_CASE("ctl arguments: a lone - is an argument (standard input), an empty word too") {
  invocation inv = parse({"import_definitions", "-"});
  CHECK(inv.args == std::vector<std::string>{"-"});
  CHECK(parse({"add_user", "bob", ""}).args == std::vector<std::string>{"bob", ""});
}

TEST_CASE("ctl arguments: flags of policies and delete_queue, silence, no headers") {
  invocation inv = parse({"-s", "--no-table-headers", "-e", "--if-unused", "--priority", "-3", "--apply-to", "queues"});
  CHECK(inv.level == verbosity::silent);
  CHECK_FALSE(inv.table_headers);
  CHECK(inv.if_empty);
  CHECK(inv.if_unused);
  CHECK(inv.priority == "-3");
  CHECK(inv.apply_to == "queues");
  CHECK(inv.verb.empty());
  // -q after -s does not make it louder.
  CHECK(parse({"-s", "-q"}).level == verbosity::silent);
}

TEST_CASE("ctl arguments: unknown options, missing values and bad values are collected as rabbitmqctl lists them") {
  invocation inv = parse({"list_queues", "--bogus", "-x", "--priority", "high", "--timeout", "0", "-t", "-p"});
  CHECK(inv.verb == "list_queues");
  CHECK(inv.invalid_options ==
        std::vector<std::string>{"--bogus : ", "-x : ", "--priority : high", "--timeout : 0", "-t : -p"});
  CHECK_FALSE(inv.priority.has_value());
  CHECK(inv.timeout_seconds == 60);
  // A flag given a value, and an option whose value is missing at the end.
  CHECK(parse({"--quiet=yes"}).invalid_options == std::vector<std::string>{"--quiet : yes"});
  CHECK(parse({"list_queues", "-p"}).invalid_options == std::vector<std::string>{"-p : "});
}

TEST_CASE("ctl arguments: help and version") {
  CHECK(parse({"--help"}).help);
  CHECK(parse({"list_users", "-?"}).help);
  CHECK(parse({"--version"}).version);
  invocation inv = parse({"help", "set_policy"});
  CHECK(inv.verb == "help");
  CHECK(inv.args == std::vector<std::string>{"set_policy"});
}
