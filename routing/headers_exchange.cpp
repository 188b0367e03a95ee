// Headers exchange: bind/unbind/route over a binding_set, and x-match
// validation whose error texts copy RabbitMQ's, values printed the way
// Erlang's ~tp prints them, so clients and tests that compare reply texts
// see the same strings.
#include "routing/headers_exchange.hpp"

#include <array>
#include <charconv>
#include <type_traits>

namespace roost::routing {

namespace {

// RabbitMQ's type names (rabbit_binary_parser), in field_value::storage order.
constexpr std::array<const char*, std::variant_size_v<amqp::field_value::storage>> erlang_type_names = {
    "bool",   "byte",    "unsignedbyte", "short", "unsignedshort", "signedint", "unsignedint", "long", "float",
    "double", "decimal", "longstr",      "array", "timestamp",     "table",     "void",        "binary"};

void append_term(std::string& out, const amqp::field_value& value);

bool printable_ascii(std::string_view bytes) {
  for (const char c : bytes)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Approximates ~tp on a binary: <<"text">> when printable ASCII, else a byte list.
void append_binary(std::string& out, std::string_view bytes) {
  out += "<<";
  if (!bytes.empty() && printable_ascii(bytes)) {
    out += '"';
    for (const char c : bytes) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (i != 0) out += ',';
      out += std::to_string(static_cast<unsigned char>(bytes[i]));
    }
  }
  out += ">>";
}

// Erlang writes floats with a mandatory fraction and a bare exponent: 1.0e10, 1.5e-5.
void append_float(std::string& out, double value) {
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  std::string text(buffer.data(), result.ptr);
  const std::size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  out += mantissa;
  if (e == std::string::npos) return;
  std::string exponent = text.substr(e + 1);
  const bool negative = exponent.front() == '-';
  const std::size_t digits = exponent.find_first_not_of("+-0");
  out += negative ? "e-" : "e";
  out += digits == std::string::npos ? "0" : exponent.substr(digits);
}

void append_table(std::string& out, const amqp::field_table& table) {
  out += '[';
  for (std::size_t i = 0; i < table.entries.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    append_binary(out, table.entries[i].name);
    out += ',';
    out += erlang_type_names[table.entries[i].value.value.index()];
    out += ',';
    append_term(out, table.entries[i].value);
    out += '}';
  }
  out += ']';
}

void append_array(std::string& out, const amqp::field_array& array) {
  out += '[';
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    out += erlang_type_names[array[i].value.index()];
    out += ',';
    append_term(out, array[i]);
    out += '}';
  }
  out += ']';
}

// Piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive) on the
// chained temporary-string version.
void append_decimal(std::string& out, const amqp::decimal_value& v) {
  out += '{';
  out += std::to_string(v.scale);
  out += ',';
  out += std::to_string(v.digits);
  out += '}';
}

void append_term(std::string& out, const amqp::field_value& value) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) out += v ? "true" : "false";
        else if constexpr (std::is_integral_v<T>) out += std::to_string(static_cast<std::int64_t>(v));
        else if constexpr (std::is_floating_point_v<T>) append_float(out, static_cast<double>(v));
        else if constexpr (std::is_same_v<T, amqp::decimal_value>)
          append_decimal(out, v);
        else if constexpr (std::is_same_v<T, std::string>) append_binary(out, v);
        else if constexpr (std::is_same_v<T, amqp::byte_array>) append_binary(out, v.bytes);
        else if constexpr (std::is_same_v<T, amqp::timestamp_value>) out += std::to_string(v.seconds);
        else if constexpr (std::is_same_v<T, amqp::void_value>) out += "undefined";
        else if constexpr (std::is_same_v<T, amqp::field_table>) append_table(out, v);
        else append_array(out, v);
      },
      value.value);
}

}  // namespace

bool headers_exchange::bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  amqp::field_table canonical = canonical_arguments(arguments);
  const match_mode mode = parse_match_mode(canonical);
  return bindings_.add(dest, binding_tag{std::string(routing_key), std::move(canonical), mode});
}

bool headers_exchange::unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) {
  return bindings_.remove(dest, binding_tag{std::string(routing_key), canonical_arguments(arguments)});
}

void headers_exchange::route(const routed_message& message, std::vector<destination>& out) const {
  // Reused across calls (per thread, as route() is const) so that large
  // header tables are indexed without allocating each time.
  thread_local std::vector<const amqp::field_entry*> index_buffer;
  const header_view headers(message.headers, index_buffer);
  for (const auto& entry : bindings_.entries()) {
    for (const binding_tag& binding : entry.tags) {
      if (headers_match(binding.arguments, binding.mode, headers)) {
        out.push_back(entry.dest);
        break;
      }
    }
  }
}

// Same checks and wording as rabbit_exchange_type_headers:validate_binding/2;
// the caller prefixes "PRECONDITION_FAILED - " when it closes the channel.
std::string headers_exchange::validate_binding(const amqp::field_table& arguments) const {
  const amqp::field_value* x_match = arguments.find("x-match");
  if (x_match == nullptr) return {};
  std::string error;
  if (const std::string* text = x_match->get_if<std::string>()) {
    if (*text == "all" || *text == "any" || *text == "all-with-x" || *text == "any-with-x") return {};
    error = "Invalid x-match field value ";
    append_binary(error, *text);
    error += "; expected all, any, all-with-x, or any-with-x";
    return error;
  }
  error = "Invalid x-match field type ";
  error += erlang_type_names[x_match->value.index()];
  error += " (value ";
  append_term(error, *x_match);
  error += "); expected longstr";
  return error;
}

}  // namespace roost::routing
