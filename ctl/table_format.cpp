// Tables and cells as rabbitmqctl prints them: see table_format.hpp.
#include "ctl/table_format.hpp"

#include <algorithm>
#include <cstdio>

#include "ctl/errors.hpp"

namespace roost::ctl {

using nlohmann::json;

namespace {

std::string number_text(const json& value) { return value.dump(); }

// RabbitMQ prints binaries in terms as Elixir's inspect does: quoted, with '"' and '\' escaped.
std::string term_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return escape_controls(out);
}

std::string term(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      std::string out = "[";
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (out.size() > 1) out += ',';
        out += "{" + term_string(it.key()) + "," + term(it.value()) + "}";
      }
      return out + "]";
    }
    case json::value_t::array: {
      std::string out = "[";
      for (const json& item : value) out += (out.size() > 1 ? "," : "") + term(item);
      return out + "]";
    }
    case json::value_t::string: return term_string(value.get_ref<const std::string&>());
    case json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case json::value_t::null: return "undefined";
    default: return number_text(value);
  }
}

std::string tag_list(const json& value) {
  std::vector<std::string> names;
  if (value.is_array()) {
    for (const json& tag : value) names.push_back(tag.is_string() ? tag.get<std::string>() : tag.dump());
  } else if (value.is_string()) {  // "a,b" (RabbitMQ accepts tags as one comma-separated string)
    std::string_view text = value.get_ref<const std::string&>();
    while (!text.empty()) {
      std::size_t comma = text.find(',');
      if (comma != 0) names.emplace_back(text.substr(0, comma));
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  }
  std::string out = "[";
  for (const std::string& name : names) out += (out.size() > 1 ? ", " : "") + escape_controls(name);
  return out + "]";
}

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) out += c;
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", u);
      out += hex;
    }
  }
  return out;
}

const json& field_at(const json& object, std::string_view path) {
  static const json missing;
  std::string pointer = "/" + std::string(path);
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  json::json_pointer at(pointer);
  return object.contains(at) ? object.at(at) : missing;
}

std::string format_cell(const json& value, cell_style style) {
  if (value.is_null()) return "";
  if (style == cell_style::tags) return tag_list(value);
  if (value.is_string()) return escape_controls(value.get_ref<const std::string&>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number()) return number_text(value);
  if (style == cell_style::term) return term(value);
  return escape_controls(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::vector<const column*> select_columns(const table_spec& spec, const std::vector<std::string>& asked) {
  auto find = [&](std::string_view name) -> const column* {
    for (const column& c : spec.columns)
      if (c.name == name) return &c;
    return nullptr;
  };
  std::vector<std::string_view> names;
  for (const std::string& word : asked) {
    std::string_view text = word;
    while (true) {
      std::size_t comma = text.find(',');
      std::string_view name = text.substr(0, comma);
      if (!name.empty()) names.push_back(name);
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  }
  if (names.empty()) names.assign(spec.defaults.begin(), spec.defaults.end());
  std::vector<const column*> out;
  std::string unknown;
  for (std::string_view name : names) {
    if (const column* c = find(name)) out.push_back(c);
    else unknown += (unknown.empty() ? "" : ", ") + std::string(name);
  }
  if (!unknown.empty()) {
    std::string known;
    for (const column& c : spec.columns) known += (known.empty() ? "" : ", ") + std::string(c.name);
    usage_error("Info key(s) " + unknown + " are not supported (known: " + known + ")");
  }
  return out;
}

std::string format_table(const std::vector<const column*>& columns, const json& rows, bool headers) {
  std::string out;
  if (!rows.is_array() || rows.empty()) return out;
  if (headers) {
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i > 0 ? "\t" : "") + std::string(columns[i]->name);
    out += '\n';
  }
  for (const json& row : rows) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out += '\t';
      const column& c = *columns[i];
      out += c.fixed.empty() ? format_cell(field_at(row, c.field), c.style) : std::string(c.fixed);
    }
    out += '\n';
  }
  return out;
}

}  // namespace roost::ctl
