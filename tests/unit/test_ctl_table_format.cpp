// roostctl's lists (ctl/table_format.hpp): columns chosen as rabbitmqctl
// chooses them, and rows and cells as rabbitmqctl 3.10 prints them with -q
// (checked against rabbitmqctl: tab-separated, true/false, arguments as
// [{"x-max-length",10}], tags as [a, b]).
#include <doctest/doctest.h>

#include "ctl/errors.hpp"
#include "ctl/table_format.hpp"

using namespace roost::ctl;
using nlohmann::json;

namespace {

constexpr column queue_columns[] = {{"name", "name"},
                                    {"messages", "messages"},
                                    {"durable", "durable"},
                                    {"arguments", "arguments", cell_style::term},
                                    {"owner", "owner_pid_details.name"},
                                    {"kind", "", cell_style::plain, "queue"}};
constexpr std::string_view queue_defaults[] = {"name", "messages"};
constexpr table_spec queues{queue_columns, queue_defaults};

std::vector<std::string_view> names(const std::vector<const column*>& columns) {
  std::vector<std::string_view> out;
  for (const column* c : columns) out.push_back(c->name);
  return out;
}

}  // namespace

TEST_CASE("ctl table: the defaults when no column is asked for, else those asked, in order, commas or spaces") {
  CHECK(names(select_columns(queues, {})) == std::vector<std::string_view>{"name", "messages"});
  CHECK(names(select_columns(queues, {"durable,name", "messages"})) ==
        std::vector<std::string_view>{"durable", "name", "messages"});
  CHECK(names(select_columns(queues, {",name,"})) == std::vector<std::string_view>{"name"});
}

TEST_CASE("ctl table: an unknown column is an argument error naming it and the known ones") {
  try {
    select_columns(queues, {"name,bogus", "worse"});
    FAIL("no error");
  } catch (const argument_error& e) {
    CHECK(e.code() == exit_code::usage);
    CHECK(std::string(e.what()) ==
          "Error (argument validation): Info key(s) bogus, worse are not supported "
          "(known: name, messages, durable, arguments, owner, kind)");
  }
}

TEST_CASE("ctl table: a header line then one tab-separated line per row; nothing at all for no rows") {
  json rows = json::array({{{"name", "q1"}, {"messages", 3}, {"durable", true}},
                           {{"name", "q2"}, {"messages", 0}, {"durable", false}}});
  auto columns = select_columns(queues, {"name", "messages", "durable"});
  CHECK(format_table(columns, rows, true) == "name\tmessages\tdurable\nq1\t3\ttrue\nq2\t0\tfalse\n");
  CHECK(format_table(columns, rows, false) == "q1\t3\ttrue\nq2\t0\tfalse\n");
  CHECK(format_table(columns, json::array(), true).empty());
  CHECK(format_table(columns, json::object(), true).empty());
}

TEST_CASE("ctl table: missing fields are empty cells, dotted fields reach inside, fixed columns ignore the row") {
  json rows = json::array({{{"name", "q"}, {"owner_pid_details", {{"name", "conn 1"}}}}, {{"name", "r"}}});
  auto columns = select_columns(queues, {"name,messages,owner,kind"});
  CHECK(format_table(columns, rows, false) == "q\t\tconn 1\tqueue\nr\t\t\tqueue\n");
  CHECK(field_at(rows[0], "owner_pid_details.name") == "conn 1");
  CHECK(field_at(rows[0], "owner_pid_details.name.deeper").is_null());
  CHECK(field_at(json("text"), "name").is_null());
}

TEST_CASE("ctl cells: plain values as rabbitmqctl prints them") {
  CHECK(format_cell(json("abc"), cell_style::plain) == "abc");
  CHECK(format_cell(json(42), cell_style::plain) == "42");
  CHECK(format_cell(json(-1.5), cell_style::plain) == "-1.5");
  CHECK(format_cell(json(true), cell_style::plain) == "true");
  CHECK(format_cell(json(), cell_style::plain).empty());
  // A policy definition: compact JSON, as list_policies prints it.
  CHECK(format_cell(json{{"message-ttl", 60000}}, cell_style::plain) == "{\"message-ttl\":60000}");
}

TEST_CASE("ctl cells: arguments as Erlang terms, [{\"key\",value}], strings quoted and escaped") {
  CHECK(format_cell(json::object(), cell_style::term) == "[]");
  CHECK(format_cell(json{{"x-max-length", 10}, {"x-queue-mode", "lazy"}}, cell_style::term) ==
        "[{\"x-max-length\",10},{\"x-queue-mode\",\"lazy\"}]");
  CHECK(format_cell(json{{"x-foo", json::array({1, "a", true, nullptr})}}, cell_style::term) ==
        "[{\"x-foo\",[1,\"a\",true,undefined]}]");
  CHECK(format_cell(json{{"q\"k", "back\\slash"}}, cell_style::term) == "[{\"q\\\"k\",\"back\\\\slash\"}]");
  CHECK(format_cell(json{{"n", {{"inner", 1}}}}, cell_style::term) == "[{\"n\",[{\"inner\",1}]}]");
}

TEST_CASE("ctl cells: tags as [a, b], from a list or from RabbitMQ's comma-separated string") {
  CHECK(format_cell(json::array({"administrator", "monitoring"}), cell_style::tags) == "[administrator, monitoring]");
  CHECK(format_cell(json::array(), cell_style::tags) == "[]");
  CHECK(format_cell(json("a,b,,c"), cell_style::tags) == "[a, b, c]");
  CHECK(format_cell(json(""), cell_style::tags) == "[]");
}

TEST_CASE("ctl cells: control characters are escaped so a value never splits a row") {
  CHECK(format_cell(json("a\tb\nc\rd\x01"), cell_style::plain) == "a\\tb\\nc\\rd\\x01");
  CHECK(escape_controls("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes through
  CHECK(escape_controls(std::string("\x7f", 1)) == "\\x7F");
}
