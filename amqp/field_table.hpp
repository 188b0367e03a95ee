// AMQP field tables and arrays as RabbitMQ understands them.
//
// The 0-9-1 spec and RabbitMQ disagree on some type tags; clients follow
// RabbitMQ's errata table ('s' = int16, 'l' = int64, 'x' = byte array, no 'U'),
// so this does too. A table keeps its entries in wire order: re-encoding a
// decoded table yields the same bytes, which matters for binding arguments
// and for headers we rewrite (x-death).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace roost::amqp {

struct field_value;
struct field_entry;

struct decimal_value {
  std::uint8_t scale = 0;
  std::uint32_t digits = 0;
  bool operator==(const decimal_value&) const = default;
};

struct timestamp_value {
  std::uint64_t seconds = 0;
  bool operator==(const timestamp_value&) const = default;
};

// 'x': opaque bytes, kept apart from 'S' so the tag survives a round trip.
struct byte_array {
  std::string bytes;
  bool operator==(const byte_array&) const = default;
};

struct void_value {
  bool operator==(const void_value&) const = default;
};

using field_array = std::vector<field_value>;

struct field_table {
  std::vector<field_entry> entries;

  // First entry with that name, or nullptr. Linear: tables are small.
  const field_value* find(std::string_view name) const;
  field_value* find(std::string_view name);
  // Replaces the value of an existing entry or appends a new one.
  void set(std::string_view name, field_value value);
  bool erase(std::string_view name);
  bool empty() const { return entries.empty(); }
  bool operator==(const field_table&) const;
};

struct field_value {
  using storage = std::variant<bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                               std::uint32_t, std::int64_t, float, double, decimal_value, std::string,
                               field_array, timestamp_value, field_table, void_value, byte_array>;
  storage value;

  field_value();
  template <class T>
    requires std::is_constructible_v<storage, T&&>
  field_value(T&& v) : value(std::forward<T>(v)) {}  // NOLINT: implicit by design
  field_value(const char* s);  // NOLINT: implicit by design

  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&value);
  }
  // Any integer type widened to int64 (uint64 is not an AMQP field type).
  bool as_integer(std::int64_t& out) const;
  // Integers, floats and doubles as double; used where RabbitMQ compares numbers loosely.
  bool as_number(double& out) const;
  // Longstr or byte array contents.
  const std::string* as_string() const;

  bool operator==(const field_value& other) const { return value == other.value; }
};

struct field_entry {
  std::string name;
  field_value value;
  bool operator==(const field_entry&) const = default;
};

// Defined here, where field_entry is complete (clang insists).
inline field_value::field_value() : value(void_value{}) {}
inline field_value::field_value(const char* s) : value(std::string(s)) {}
inline bool field_table::operator==(const field_table& other) const { return entries == other.entries; }

// RabbitMQ's name for a value's type, as its error texts print it ("signedint", "longstr", ...).
std::string_view type_name(const field_value& v);

}  // namespace roost::amqp
