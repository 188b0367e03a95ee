// Erlang's ~p for the values a JSON policy definition can hold, and just
// enough of io_lib_pretty's line breaking for RabbitMQ's policy texts. Its
// rule, as measured on RabbitMQ 3.10: a term is printed on one line when it
// ends by column 78 (closing brackets that follow included); otherwise a
// tuple puts each element on its own line, aligned after the brace, a list
// of tuples does the same, and a list of plain values is filled.
#include "broker/policy/erlang_term.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <vector>

namespace roost::erlang {

namespace {

constexpr std::size_t last_column = 78;

std::string binary(const std::string& s) {
  std::string out = "<<\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\">>";
}

// Erlang's io_lib_format:insert_decimal: fixed notation unless the
// exponent form is shorter.
std::string insert_decimal(int place, const std::string& digits) {
  int length = static_cast<int>(digits.size());
  if (place == 0) return "0." + digits;
  if (place > 0 && place < length) return digits.substr(0, place) + "." + digits.substr(place);
  std::string exp = std::to_string(place - 1);
  int exp_cost = static_cast<int>(exp.size()) + 1 + (length == 1 ? 2 : 1);
  if (place < 0 && 2 - place <= exp_cost) return "0." + std::string(-place, '0') + digits;
  if (place > 0 && place - length + 2 <= exp_cost) return digits + std::string(place - length, '0') + ".0";
  if (length == 1) return digits + ".0e" + exp;
  return digits.substr(0, 1) + "." + digits.substr(1) + "e" + exp;
}

}  // namespace

std::string format_float(double d) {
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d < 0 ? -d : d, std::chars_format::scientific);
  if (ec != std::errc()) return "0.0";
  std::string sci(buf, end);  // d.ddde[+-]x, shortest round trip
  std::size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = std::stoi(sci.substr(e + 1));
  return (d < 0 ? "-" : "") + insert_decimal(exponent + 1, digits);
}

std::string flat(const amqp::field_value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, amqp::void_value>) {
          return "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return binary(x);
        } else if constexpr (std::is_same_v<T, amqp::byte_array>) {
          return binary(x.bytes);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return format_float(x);
        } else if constexpr (std::is_same_v<T, amqp::field_array>) {
          std::string out = "[";
          for (std::size_t i = 0; i < x.size(); ++i) out += (i ? "," : "") + flat(x[i]);
          return out + "]";
        } else if constexpr (std::is_same_v<T, amqp::field_table>) {
          // A map: keys in term order (binaries compare byte-wise).
          std::vector<const amqp::field_entry*> sorted;
          for (const auto& e : x.entries) sorted.push_back(&e);
          std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
          std::string out = "#{";
          for (std::size_t i = 0; i < sorted.size(); ++i)
            out += (i ? "," : "") + binary(sorted[i]->name) + " => " + flat(sorted[i]->value);
          return out + "}";
        } else if constexpr (std::is_same_v<T, amqp::decimal_value>) {
          return std::to_string(x.digits);
        } else if constexpr (std::is_same_v<T, amqp::timestamp_value>) {
          return std::to_string(x.seconds);
        } else {
          return std::to_string(x);
        }
      },
      v.value);
}

term of(const amqp::field_value& v) {
  if (const auto* a = v.get_if<amqp::field_array>()) {
    term_list items;
    for (const auto& e : *a) items.push_back(of(e));
    return list(std::move(items));
  }
  return text(flat(v));
}

term tuple(term_list items) { return term{term::kind::tuple, {}, std::move(items)}; }
term list(term_list items) { return term{term::kind::list, {}, std::move(items)}; }
term text(std::string s) { return term{term::kind::text, std::move(s), {}}; }

namespace {

std::string flat(const term& t) {
  if (t.what == term::kind::text) return t.text;
  std::string out = t.what == term::kind::list ? "[" : "{";
  for (std::size_t i = 0; i < t.items.size(); ++i) out += (i ? "," : "") + flat(t.items[i]);
  return out + (t.what == term::kind::list ? "]" : "}");
}

// `trailing`: characters that must still fit on the term's last line (closing brackets, a comma).
std::string pretty(const term& t, std::size_t column, std::size_t trailing) {
  std::string one_line = flat(t);
  if (t.what == term::kind::text || t.items.empty() || column + one_line.size() + trailing <= last_column)
    return one_line;
  const char* close = t.what == term::kind::list ? "]" : "}";
  std::string indent(column + 1, ' ');
  bool fill = t.what == term::kind::list &&
              std::all_of(t.items.begin(), t.items.end(), [](const term& i) { return i.what == term::kind::text; });
  std::string out = t.what == term::kind::list ? "[" : "{";
  std::size_t at = column + 1;
  for (std::size_t i = 0; i < t.items.size(); ++i) {
    bool last = i + 1 == t.items.size();
    std::size_t after = last ? trailing + 1 : 1;
    if (fill) {
      std::string item = t.items[i].text;
      if (i > 0 && at + item.size() + after > last_column + 1) {
        out += "\n" + indent;
        at = column + 1;
      }
      out += item + (last ? "" : ",");
      at += item.size() + 1;
    } else {
      if (i > 0) out += ",\n" + indent;
      out += pretty(t.items[i], column + 1, after);
    }
  }
  return out + close;
}

}  // namespace

std::string pretty(const term& t, std::size_t column) { return pretty(t, column, 0); }

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace roost::erlang
