// The basic properties codec, driven by basic_properties::fields().
#include "amqp/properties.hpp"

#include <optional>

#include <utility>

namespace roost::amqp {

namespace {

constexpr std::size_t property_count = std::tuple_size_v<decltype(basic_properties::fields())>;

// Flag for the i-th property: bit 15 for the first. Bit 0 would announce a
// further flags word; the basic class has only 14 properties, so a set bit 0
// is malformed.
constexpr std::uint16_t flag_for(std::size_t index) { return static_cast<std::uint16_t>(1u << (15 - index)); }

std::uint16_t read_flags(wire_reader& in) {
  std::uint16_t flags = in.u16();
  if (flags & 1) throw decode_error("content header has more property flags than the basic class defines");
  return flags;
}

void read_value(wire_reader& in, std::string& v) { v.assign(in.shortstr()); }
void read_value(wire_reader& in, std::uint8_t& v) { v = in.u8(); }
void read_value(wire_reader& in, std::uint64_t& v) { v = in.u64(); }
void read_value(wire_reader& in, field_table& v) { v = in.table(); }

void write_value(wire_writer& out, const std::string& v) { out.shortstr(v); }
void write_value(wire_writer& out, std::uint8_t v) { out.u8(v); }
void write_value(wire_writer& out, std::uint64_t v) { out.u64(v); }
void write_value(wire_writer& out, const field_table& v) { out.table(v); }

// Skips one field of the given type and returns its encoded bytes.
template <class T>
std::string_view skip_value(wire_reader& in) {
  if constexpr (std::is_same_v<T, std::string>) return in.shortstr();
  else if constexpr (std::is_same_v<T, std::uint8_t>) return in.bytes(1);
  else if constexpr (std::is_same_v<T, std::uint64_t>) return in.bytes(8);
  else {
    static_assert(std::is_same_v<T, field_table>);
    wire_reader probe = in;
    probe.table();  // validates nesting and value types
    std::size_t size = in.remaining() - probe.remaining();
    return in.bytes(size);
  }
}

template <class F>
void for_each_property(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}, std::get<I>(basic_properties::fields())), ...);
  }(std::make_index_sequence<property_count>{});
}

}  // namespace

basic_properties decode_properties(std::string_view raw) {
  wire_reader in(raw);
  std::uint16_t flags = read_flags(in);
  basic_properties props;
  for_each_property([&](auto index, auto member) {
    if (flags & flag_for(index)) read_value(in, (props.*member).emplace());
  });
  return props;
}

void encode_properties(wire_writer& out, const basic_properties& props) {
  std::uint16_t flags = 0;
  for_each_property([&](auto index, auto member) {
    if ((props.*member).has_value()) flags |= flag_for(index);
  });
  out.u16(flags);
  for_each_property([&](auto, auto member) {
    if (const auto& v = props.*member) write_value(out, *v);
  });
}

property_summary scan_properties(std::string_view raw) {
  using p = basic_properties;
  wire_reader in(raw);
  std::uint16_t flags = read_flags(in);
  property_summary s;
  for_each_property([&](auto index, auto member) {
    if (!(flags & flag_for(index))) return;
    using value_type = typename std::remove_reference_t<decltype(std::declval<p&>().*member)>::value_type;
    std::string_view bytes = skip_value<value_type>(in);
    if constexpr (std::is_same_v<decltype(member), decltype(&p::delivery_mode)>) {
      if (member == &p::delivery_mode) s.delivery_mode = static_cast<std::uint8_t>(bytes[0]);
      if (member == &p::priority) s.priority = static_cast<std::uint8_t>(bytes[0]);
    } else if constexpr (std::is_same_v<decltype(member), decltype(&p::expiration)>) {
      if (member == &p::expiration) s.expiration = bytes;
      if (member == &p::user_id) s.user_id = bytes;
      if (member == &p::reply_to) s.reply_to = bytes;
    } else if constexpr (std::is_same_v<decltype(member), decltype(&p::headers)>) {
      s.headers = bytes;
    }
  });
  return s;
}

namespace {

constexpr std::uint16_t content_type_flag = 0x8000;
constexpr std::uint16_t content_encoding_flag = 0x4000;
constexpr std::uint16_t headers_flag = 0x2000;

// with_header without decoding: the headers table comes after the two
// shortstrs content_type and content_encoding, so a new entry is spliced in
// as bytes (a new table, or appended to the table there). Nothing when that
// needs a decode after all: a continuation flag, bytes cut short, or the key
// perhaps in the table already (its bytes appear in it).
std::optional<std::string> spliced(std::string_view raw, std::string_view key, std::string_view entry) {
  if (raw.size() < 2) return std::nullopt;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(raw[i]); };
  auto flags = static_cast<std::uint16_t>(byte(0) << 8 | byte(1));
  if ((flags & 1) != 0) return std::nullopt;
  std::size_t at = 2;
  for (std::uint16_t flag : {content_type_flag, content_encoding_flag}) {
    if ((flags & flag) == 0) continue;
    if (at >= raw.size()) return std::nullopt;
    at += 1 + byte(at);
  }
  if (at > raw.size()) return std::nullopt;
  std::string out;
  out.reserve(raw.size() + entry.size() + 4);
  wire_writer w(out);
  if ((flags & headers_flag) == 0) {
    w.u16(static_cast<std::uint16_t>(flags | headers_flag));
    out.append(raw.substr(2, at - 2));
    w.u32(static_cast<std::uint32_t>(entry.size()));
    out.append(entry);
    out.append(raw.substr(at));
    return out;
  }
  if (at + 4 > raw.size()) return std::nullopt;
  std::uint32_t length = static_cast<std::uint32_t>(byte(at)) << 24 | static_cast<std::uint32_t>(byte(at + 1)) << 16 |
                         static_cast<std::uint32_t>(byte(at + 2)) << 8 | byte(at + 3);
  if (length > raw.size() - at - 4) return std::nullopt;
  std::string_view table = raw.substr(at + 4, length);
  std::string name(1, static_cast<char>(key.size()));
  name.append(key);
  if (table.find(name) != std::string_view::npos) return std::nullopt;
  out.append(raw.substr(0, at));
  w.u32(static_cast<std::uint32_t>(length + entry.size()));
  out.append(table);
  out.append(entry);
  out.append(raw.substr(at + 4 + length));
  return out;
}

}  // namespace

std::string with_header(std::string_view raw, std::string_view key, field_value value) {
  if (key.size() <= 255) {
    field_table one;
    one.set(key, value);
    std::string entry = encode_table(one);
    if (auto out = spliced(raw, key, std::string_view(entry).substr(4))) return std::move(*out);
  }
  basic_properties props = decode_properties(raw);
  if (!props.headers) props.headers.emplace();
  props.headers->set(key, std::move(value));
  std::string out;
  wire_writer w(out);
  encode_properties(w, props);
  return out;
}

}  // namespace roost::amqp
