// Lists as rabbitmqctl prints them: tab-separated rows of the columns asked
// for (or the command's defaults), a header line of column names first
// (dropped by -s and --no-table-headers), nothing at all for no rows. Cells
// look as rabbitmqctl 3.10 prints them: true/false, queue arguments as
// [{"x-max-length",10}], tags as [administrator, monitoring].
//
// One difference, on purpose: a control character inside a value (a queue
// named "a<TAB>b") is printed escaped (\t, \n, \r, \xNN); rabbitmqctl
// prints it raw, which splits the row. Pure code.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roost::ctl {

enum class cell_style {
  plain,  // strings as they are, numbers, true/false; an object or list as compact JSON (policy definitions)
  term,   // as RabbitMQ prints Erlang terms: a table as [{"key",value}], a list as [a,b] (arguments)
  tags,   // a list of names as [a, b] (user and vhost tags)
};

struct column {
  std::string_view name;   // rabbitmqctl's column name
  std::string_view field;  // where the admin API's JSON object has it: "name", "connection_details.name"
  cell_style style = cell_style::plain;
  std::string_view fixed = {};  // a value every row has (list_bindings' source_kind is always "exchange")
};

struct table_spec {
  std::span<const column> columns;             // every column the command knows
  std::span<const std::string_view> defaults;  // printed when none are asked for
  bool selectable = true;                      // column names may follow the command
};

// The columns asked for ("name,messages durable" is three), in that order,
// or the defaults. Throws command_error (usage) for a name the table lacks.
std::vector<const column*> select_columns(const table_spec& spec, const std::vector<std::string>& asked);

// rows: the API's JSON array of objects.
std::string format_table(const std::vector<const column*>& columns, const nlohmann::json& rows, bool headers);

// One cell; a missing or null value is an empty cell.
std::string format_cell(const nlohmann::json& value, cell_style style);

// The value at a dotted path ("queue.name"), or null.
const nlohmann::json& field_at(const nlohmann::json& object, std::string_view path);

// A string with control characters escaped, for one-line output.
std::string escape_controls(std::string_view text);

}  // namespace roost::ctl
