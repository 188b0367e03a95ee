// Small helpers on field tables and values; the wire format is in wire.cpp.
#include "amqp/field_table.hpp"

namespace roost::amqp {

const field_value* field_table::find(std::string_view name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e.value;
  return nullptr;
}

field_value* field_table::find(std::string_view name) {
  for (auto& e : entries)
    if (e.name == name) return &e.value;
  return nullptr;
}

void field_table::set(std::string_view name, field_value value) {
  if (auto* existing = find(name)) {
    *existing = std::move(value);
    return;
  }
  entries.push_back(field_entry{std::string(name), std::move(value)});
}

bool field_table::erase(std::string_view name) {
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->name == name) {
      entries.erase(it);
      return true;
    }
  }
  return false;
}

bool field_value::as_integer(std::int64_t& out) const {
  return std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          out = static_cast<std::int64_t>(v);
          return true;
        } else {
          return false;
        }
      },
      value);
}

bool field_value::as_number(double& out) const {
  return std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr ((std::is_integral_v<T> && !std::is_same_v<T, bool>) || std::is_floating_point_v<T>) {
          out = static_cast<double>(v);
          return true;
        } else {
          return false;
        }
      },
      value);
}

const std::string* field_value::as_string() const {
  if (auto* s = std::get_if<std::string>(&value)) return s;
  if (auto* b = std::get_if<byte_array>(&value)) return &b->bytes;
  return nullptr;
}

std::string_view type_name(const field_value& v) {
  static constexpr std::string_view names[] = {"bool",      "byte",        "unsignedbyte", "short",     "unsignedshort",
                                               "signedint", "unsignedint", "long",         "float",     "double",
                                               "decimal",   "longstr",     "array",        "timestamp", "table",
                                               "void",      "binary"};
  return names[v.value.index()];
}

}  // namespace roost::amqp
