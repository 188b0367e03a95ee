// Field tables and values on the wire, with RabbitMQ's type tags.
#include "amqp/wire.hpp"

#include <bit>

namespace roost::amqp {

namespace {

// Tables nest (arrays of tables of arrays ...). A hostile peer could nest
// deeply enough to exhaust the stack; real headers (x-death) nest 3 levels.
constexpr int max_nesting = 64;
thread_local int nesting = 0;

struct nesting_guard {
  nesting_guard() {
    if (++nesting > max_nesting) {
      --nesting;
      throw decode_error("field table nested too deeply");
    }
  }
  ~nesting_guard() { --nesting; }
};

}  // namespace

field_table wire_reader::table() {
  nesting_guard guard;
  wire_reader inner(bytes(u32()));
  field_table t;
  while (!inner.at_end()) {
    std::string name(inner.shortstr());
    t.entries.push_back(field_entry{std::move(name), inner.value()});
  }
  return t;
}

field_array wire_reader::array() {
  nesting_guard guard;
  wire_reader inner(bytes(u32()));
  field_array a;
  while (!inner.at_end()) a.push_back(inner.value());
  return a;
}

field_value wire_reader::value() {
  switch (u8()) {
    case 't': return field_value{u8() != 0};
    case 'b': return field_value{static_cast<std::int8_t>(u8())};
    case 'B': return field_value{u8()};
    case 's': return field_value{static_cast<std::int16_t>(u16())};
    case 'u': return field_value{u16()};
    case 'I': return field_value{static_cast<std::int32_t>(u32())};
    case 'i': return field_value{u32()};
    case 'l': return field_value{static_cast<std::int64_t>(u64())};
    case 'f': return field_value{std::bit_cast<float>(u32())};
    case 'd': return field_value{std::bit_cast<double>(u64())};
    case 'D': {
      decimal_value d;
      d.scale = u8();
      d.digits = u32();
      return field_value{d};
    }
    case 'S': return field_value{std::string(longstr())};
    case 'A': return field_value{array()};
    case 'T': return field_value{timestamp_value{u64()}};
    case 'F': return field_value{table()};
    case 'V': return field_value{void_value{}};
    case 'x': return field_value{byte_array{std::string(longstr())}};
    default: throw decode_error("unknown field value type");
  }
}

void wire_writer::shortstr(std::string_view s) {
  if (s.size() > 255) throw std::length_error("shortstr longer than 255 bytes");
  u8(static_cast<std::uint8_t>(s.size()));
  out_.append(s);
}

void wire_writer::table(const field_table& t) {
  std::size_t at = reserve_u32();
  for (const auto& e : t.entries) {
    shortstr(e.name);
    value(e.value);
  }
  patch_u32(at, static_cast<std::uint32_t>(out_.size() - at - 4));
}

void wire_writer::array(const field_array& a) {
  std::size_t at = reserve_u32();
  for (const auto& v : a) value(v);
  patch_u32(at, static_cast<std::uint32_t>(out_.size() - at - 4));
}

void wire_writer::value(const field_value& v) {
  std::visit(
      [this](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) { u8('t'); u8(x ? 1 : 0); }
        else if constexpr (std::is_same_v<T, std::int8_t>) { u8('b'); u8(static_cast<std::uint8_t>(x)); }
        else if constexpr (std::is_same_v<T, std::uint8_t>) { u8('B'); u8(x); }
        else if constexpr (std::is_same_v<T, std::int16_t>) { u8('s'); u16(static_cast<std::uint16_t>(x)); }
        else if constexpr (std::is_same_v<T, std::uint16_t>) { u8('u'); u16(x); }
        else if constexpr (std::is_same_v<T, std::int32_t>) { u8('I'); u32(static_cast<std::uint32_t>(x)); }
        else if constexpr (std::is_same_v<T, std::uint32_t>) { u8('i'); u32(x); }
        else if constexpr (std::is_same_v<T, std::int64_t>) { u8('l'); u64(static_cast<std::uint64_t>(x)); }
        else if constexpr (std::is_same_v<T, float>) { u8('f'); u32(std::bit_cast<std::uint32_t>(x)); }
        else if constexpr (std::is_same_v<T, double>) { u8('d'); u64(std::bit_cast<std::uint64_t>(x)); }
        else if constexpr (std::is_same_v<T, decimal_value>) { u8('D'); u8(x.scale); u32(x.digits); }
        else if constexpr (std::is_same_v<T, std::string>) { u8('S'); longstr(x); }
        else if constexpr (std::is_same_v<T, field_array>) { u8('A'); array(x); }
        else if constexpr (std::is_same_v<T, timestamp_value>) { u8('T'); u64(x.seconds); }
        else if constexpr (std::is_same_v<T, field_table>) { u8('F'); table(x); }
        else if constexpr (std::is_same_v<T, void_value>) { u8('V'); }
        else { static_assert(std::is_same_v<T, byte_array>); u8('x'); longstr(x.bytes); }
      },
      v.value);
}

std::string encode_table(const field_table& t) {
  std::string out;
  wire_writer(out).table(t);
  return out;
}

field_table decode_table(std::string_view bytes) {
  if (bytes.empty()) return {};
  wire_reader in(bytes);
  return in.table();
}

}  // namespace roost::amqp
