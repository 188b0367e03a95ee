// Primitive wire codec tests (amqp/wire.hpp, wire.cpp, field_table.hpp):
// big-endian layout of u16/u32/u64 and shortstr/longstr, every field value
// type with RabbitMQ's tags checked byte for byte and round-tripped, nested
// tables and arrays, table order (and duplicate names) preserved, every
// truncation of an encoded table throwing decode_error without reading past
// its buffer, inner lengths that overrun their enclosing table, every unknown
// type tag, the nesting depth limit (and that the limit resets after a
// failure), shortstr over 255 bytes refused on write, and the small
// field_table/field_value helpers.
#include <doctest/doctest.h>

#include <bit>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "amqp/wire.hpp"
#include "tests/unit/golden_frames.hpp"

using namespace roost::amqp;
using roost::test::hex;
using roost::test::unhex;

namespace {

template <class F>
std::string written(F&& f) {
  std::string out;
  wire_writer w(out);
  f(w);
  return out;
}

std::string encode_value(const field_value& v) {
  return written([&](wire_writer& w) { w.value(v); });
}

// Decodes from a heap copy exactly as long as the input, so any read past
// the end is a real out-of-bounds access (visible under ASan), not a read of
// the caller's trailing bytes.
template <class F>
auto read_exact(std::string_view bytes, F&& f) {
  std::vector<char> copy(bytes.begin(), bytes.end());
  wire_reader in(copy.data(), copy.size());
  auto result = f(in);
  CHECK(in.at_end());
  return result;
}

field_table decode_table_exact(std::string_view bytes) {
  return read_exact(bytes, [](wire_reader& in) { return in.table(); });
}

field_value decode_value(std::string_view bytes) {
  return read_exact(bytes, [](wire_reader& in) { return in.value(); });
}

struct typed_case {
  field_value value;
  const char* bytes;  // tag and payload, as hex
};

// One value of every type RabbitMQ knows, each chosen so that a wrong width,
// sign or byte order would change the bytes.
const std::vector<typed_case>& every_type() {
  static const std::vector<typed_case> cases{
      {field_value{true}, "74 01"},
      {field_value{false}, "74 00"},
      {field_value{std::int8_t{-2}}, "62 fe"},
      {field_value{std::uint8_t{0xfe}}, "42 fe"},
      {field_value{std::int16_t{-2}}, "73 ff fe"},
      {field_value{std::uint16_t{0xfffe}}, "75 ff fe"},
      {field_value{std::int32_t{-2}}, "49 ff ff ff fe"},
      {field_value{std::uint32_t{0x80000001}}, "69 80 00 00 01"},
      {field_value{std::int64_t{-2}}, "6c ff ff ff ff ff ff ff fe"},
      {field_value{std::numeric_limits<std::int64_t>::min()}, "6c 80 00 00 00 00 00 00 00"},
      {field_value{1.5f}, "66 3f c0 00 00"},
      {field_value{-2.5}, "64 c0 04 00 00 00 00 00 00"},
      {field_value{decimal_value{2, 0x01020304}}, "44 02 01 02 03 04"},
      {field_value{std::string("a\0\xff", 3)}, "53 00 00 00 03 61 00 ff"},
      {field_value{std::string()}, "53 00 00 00 00"},
      {field_value{field_array{field_value{std::int8_t{1}}, field_value{"x"}}}, "41 00 00 00 08 62 01 53 00 00 00 01 78"},
      {field_value{field_array{}}, "41 00 00 00 00"},
      {field_value{timestamp_value{0x0102030405060708}}, "54 01 02 03 04 05 06 07 08"},
      {field_value{field_table{{{"k", field_value{std::uint8_t{7}}}}}}, "46 00 00 00 04 01 6b 42 07"},
      {field_value{field_table{}}, "46 00 00 00 00"},
      {field_value{void_value{}}, "56"},
      {field_value{byte_array{std::string("\x00\x01\xfe", 3)}}, "78 00 00 00 03 00 01 fe"},
  };
  return cases;
}

}  // namespace

TEST_CASE("integers are big-endian on the wire") {
  std::string out = written([](wire_writer& w) {
    w.u8(0x81);
    w.u16(0x0102);
    w.u32(0x01020304);
    w.u64(0x0102030405060708);
  });
  CHECK(hex(out) == "81 01 02 01 02 03 04 01 02 03 04 05 06 07 08");

  // High bits set: no sign extension on the way back in.
  const std::string in_bytes = unhex("ff fffe 80000001 8000000000000001");
  wire_reader in(in_bytes);
  CHECK(in.u8() == 0xff);
  CHECK(in.u16() == 0xfffe);
  CHECK(in.u32() == 0x80000001u);
  CHECK(in.u64() == 0x8000000000000001ull);
  CHECK(in.at_end());
}

TEST_CASE("shortstr and longstr carry 8- and 32-bit lengths") {
  CHECK(hex(written([](wire_writer& w) { w.shortstr("ab"); })) == "02 61 62");
  CHECK(hex(written([](wire_writer& w) { w.longstr("ab"); })) == "00 00 00 02 61 62");
  const std::string max(255, 's');
  const std::string encoded = written([&](wire_writer& w) { w.shortstr(max); });
  CHECK(encoded.size() == 256);
  CHECK(read_exact(encoded, [](wire_reader& in) { return std::string(in.shortstr()); }) == max);
  const std::string long_value(70000, 'L');
  CHECK(read_exact(written([&](wire_writer& w) { w.longstr(long_value); }),
                   [](wire_reader& in) { return std::string(in.longstr()); }) == long_value);
}

TEST_CASE("shortstr over 255 bytes is refused on write, table keys included") {
  std::string out;
  wire_writer w(out);
  CHECK_THROWS_AS(w.shortstr(std::string(256, 's')), std::length_error);
  field_table t;
  t.set(std::string(256, 'k'), field_value{true});
  CHECK_THROWS_AS(w.table(t), std::length_error);
}

TEST_CASE("reserve_u32 and patch_u32 fill in a length later") {
  std::string out = "prefix";
  wire_writer w(out);
  std::size_t at = w.reserve_u32();
  CHECK(at == 6);
  w.raw("xyz");
  w.patch_u32(at, 0xa1b2c3d4);
  CHECK(hex(out) == hex(std::string("prefix") + unhex("a1b2c3d4") + "xyz"));
  CHECK(w.size() == out.size());
}

TEST_CASE("every field value type has RabbitMQ's tag and layout and round-trips") {
  field_table all;
  int n = 0;
  for (const auto& c : every_type()) {
    INFO("expected bytes: ", c.bytes);
    CHECK(hex(encode_value(c.value)) == hex(unhex(c.bytes)));
    // == on the variant compares the alternative too, so 'S' vs 'x' or
    // 'I' vs 'i' mix-ups fail here.
    CHECK(decode_value(unhex(c.bytes)) == c.value);
    all.entries.push_back(field_entry{"k" + std::to_string(n++), c.value});
  }
  const std::string bytes = encode_table(all);
  CHECK(decode_table_exact(bytes) == all);
  CHECK(encode_table(decode_table_exact(bytes)) == bytes);
}

TEST_CASE("special floating-point values survive bit for bit") {
  for (double d : {std::numeric_limits<double>::infinity(), -0.0, std::numeric_limits<double>::denorm_min()}) {
    const field_value back = decode_value(encode_value(field_value{d}));
    REQUIRE(back.get_if<double>() != nullptr);
    CHECK(std::bit_cast<std::uint64_t>(*back.get_if<double>()) == std::bit_cast<std::uint64_t>(d));
  }
  const field_value nan = decode_value(unhex("66 7f c0 00 01"));
  REQUIRE(nan.get_if<float>() != nullptr);
  CHECK(std::bit_cast<std::uint32_t>(*nan.get_if<float>()) == 0x7fc00001u);
}

namespace {

// An x-death style header: arrays of tables holding arrays.
field_table nested_sample() {
  field_table death;
  death.set("count", std::int64_t{3});
  death.set("reason", "expired");
  death.set("queue", "q1");
  death.set("routing-keys", field_array{field_value{"rk1"}, field_value{"rk2"}});
  death.set("time", timestamp_value{1700000000});
  field_table inner;
  inner.set("deep", field_array{field_value{field_array{field_value{field_table{}}, field_value{void_value{}}}}});
  field_table t;
  t.set("x-death", field_array{field_value{death}, field_value{death}});
  t.set("inner", inner);
  t.set("after", std::int32_t{42});
  return t;
}

}  // namespace

TEST_CASE("nested tables and arrays round-trip") {
  const field_table t = nested_sample();
  const std::string bytes = encode_table(t);
  const field_table back = decode_table_exact(bytes);
  CHECK(back == t);
  const field_value* deaths = back.find("x-death");
  REQUIRE(deaths != nullptr);
  const field_array* list = deaths->get_if<field_array>();
  REQUIRE(list != nullptr);
  REQUIRE(list->size() == 2);
  const field_table* first = (*list)[0].get_if<field_table>();
  REQUIRE(first != nullptr);
  CHECK(first->find("reason")->as_string() != nullptr);
  CHECK(*first->find("reason")->as_string() == "expired");
  CHECK(encode_table(back) == bytes);
}

TEST_CASE("table entries keep wire order, duplicates included") {
  // z, a, m, then a second 'a': wire order, not sorted, not merged.
  const std::string bytes = unhex("00 00 00 15  01 7a 74 01  01 61 42 02  01 6d 56  01 61 53 00 00 00 03 64 75 70");
  const field_table t = decode_table_exact(bytes);
  REQUIRE(t.entries.size() == 4);
  CHECK(t.entries[0].name == "z");
  CHECK(t.entries[1].name == "a");
  CHECK(t.entries[2].name == "m");
  CHECK(t.entries[3].name == "a");
  CHECK(t.find("a")->get_if<std::uint8_t>() != nullptr);  // the first one
  CHECK(hex(encode_table(t)) == hex(bytes));
}

TEST_CASE("every truncation of an encoded table throws decode_error") {
  const std::string bytes = encode_table(nested_sample());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at ", cut, " of ", bytes.size());
    const std::string_view prefix(bytes.data(), cut);
    CHECK_THROWS_AS(read_exact(prefix, [](wire_reader& in) { return in.table(); }), decode_error);
  }
  // The same for a single value of each type.
  for (const auto& c : every_type()) {
    const std::string v = unhex(c.bytes);
    for (std::size_t cut = 0; cut < v.size(); ++cut) {
      INFO("value ", c.bytes, " cut at ", cut);
      CHECK_THROWS_AS(read_exact(std::string_view(v.data(), cut), [](wire_reader& in) { return in.value(); }),
                      decode_error);
    }
  }
}

TEST_CASE("an inner length may not run past its enclosing table") {
  // The table says 9 bytes; its 'S' value claims 16. Bytes follow the table,
  // so only the table's own bound can catch it.
  const std::string lying = unhex("00 00 00 09 01 61 53 00 00 00 10 61 62") + std::string(32, 'z');
  wire_reader in(lying);
  CHECK_THROWS_AS(in.table(), decode_error);
  // A table length of 4 GiB against a short buffer.
  CHECK_THROWS_AS(decode_table_exact(unhex("ff ff ff ff 01 61")), decode_error);
  // A name length past the end of the table.
  CHECK_THROWS_AS(decode_table_exact(unhex("00 00 00 02 05 61 61 61 61 61 56")), decode_error);
}

TEST_CASE("primitive reads past the end throw") {
  CHECK_THROWS_AS(read_exact("", [](wire_reader& in) { return in.u8(); }), decode_error);
  CHECK_THROWS_AS(read_exact("\x01", [](wire_reader& in) { return in.u16(); }), decode_error);
  CHECK_THROWS_AS(read_exact("\x01\x02\x03", [](wire_reader& in) { return in.u32(); }), decode_error);
  CHECK_THROWS_AS(read_exact("\x01\x02\x03\x04\x05\x06\x07", [](wire_reader& in) { return in.u64(); }),
                  decode_error);
  CHECK_THROWS_AS(read_exact("\x03xy", [](wire_reader& in) { return in.shortstr(); }), decode_error);
  CHECK_THROWS_AS(read_exact(unhex("ffffffff 78"), [](wire_reader& in) { return in.longstr(); }), decode_error);
  CHECK_THROWS_AS(read_exact("ab", [](wire_reader& in) { return in.bytes(3); }), decode_error);
  wire_reader in("abc", 3);
  CHECK_THROWS_AS(in.bytes(std::numeric_limits<std::size_t>::max()), decode_error);
  CHECK(in.remaining() == 3);  // a failed read consumes nothing
}

TEST_CASE("every unknown type tag throws decode_error") {
  const std::string known = "tbBsuIilfdDSATFVx";
  int unknown = 0;
  for (int tag = 0; tag < 256; ++tag) {
    if (known.find(static_cast<char>(tag)) != std::string::npos) continue;
    ++unknown;
    INFO("tag ", tag);
    // Enough zero bytes after the tag that a misread tag would not run out.
    std::string bytes(1, static_cast<char>(tag));
    bytes += std::string(16, '\0');
    wire_reader in(bytes);
    CHECK_THROWS_AS(in.value(), decode_error);
  }
  CHECK(unknown == 256 - 17);
  // pika's decoder knows 'U' and 'L'; RabbitMQ does not, and neither do we.
  CHECK_THROWS_AS(decode_table_exact(unhex("00 00 00 05 01 61 55 00 01")), decode_error);
}

namespace {

// depth 1 is an empty table; each further level wraps it as the value 'n'.
field_table nested_tables(int depth) {
  field_table t;
  for (int i = 1; i < depth; ++i) {
    field_table outer;
    outer.set("n", std::move(t));
    t = std::move(outer);
  }
  return t;
}

// 'A' nested `depth` times, built directly so it can be far deeper than
// a recursive encoder could go: level i's length covers all levels below it.
std::string nested_arrays(std::size_t depth) {
  std::string out(depth * 5, '\0');
  for (std::size_t i = 0; i < depth; ++i) {
    std::uint32_t len = static_cast<std::uint32_t>((depth - 1 - i) * 5);
    out[i * 5] = 'A';
    for (int b = 0; b < 4; ++b) out[i * 5 + 1 + b] = static_cast<char>(len >> (24 - 8 * b));
  }
  return out;
}

}  // namespace

TEST_CASE("nesting deeper than 64 tables or arrays throws and the limit resets") {
  // wire.cpp: max_nesting = 64, counting tables and arrays alike.
  const std::string ok = encode_table(nested_tables(64));
  const std::string too_deep = encode_table(nested_tables(65));
  CHECK(decode_table_exact(ok) == nested_tables(64));
  CHECK_THROWS_AS(decode_table_exact(too_deep), decode_error);
  CHECK(decode_value(nested_arrays(64)).get_if<field_array>() != nullptr);
  CHECK_THROWS_AS(decode_value(nested_arrays(65)), decode_error);
  // Hostile depth: must throw, not overflow the stack.
  CHECK_THROWS_AS(decode_value(nested_arrays(200000)), decode_error);
  // The depth counter unwound: a full-depth table still decodes afterwards,
  // repeatedly.
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_AS(decode_table_exact(too_deep), decode_error);
    CHECK(decode_table_exact(ok) == nested_tables(64));
  }
}

TEST_CASE("field_table and field_value helpers") {
  field_table t;
  CHECK(t.empty());
  t.set("a", std::int16_t{-3});
  t.set("b", "text");
  t.set("a", std::uint32_t{9});  // replaces in place
  REQUIRE(t.entries.size() == 2);
  CHECK(t.entries[0].name == "a");
  CHECK(t.entries[0].value == field_value{std::uint32_t{9}});
  CHECK(t.find("missing") == nullptr);
  CHECK(t.erase("a"));
  CHECK_FALSE(t.erase("a"));
  CHECK(t.entries.size() == 1);

  std::int64_t i = 0;
  CHECK(field_value{std::uint32_t{0xffffffff}}.as_integer(i));
  CHECK(i == 0xffffffffLL);
  CHECK(field_value{std::int8_t{-5}}.as_integer(i));
  CHECK(i == -5);
  CHECK_FALSE(field_value{true}.as_integer(i));
  CHECK_FALSE(field_value{1.0}.as_integer(i));
  double d = 0;
  CHECK(field_value{2.5f}.as_number(d));
  CHECK(d == 2.5);
  CHECK(field_value{std::int64_t{-7}}.as_number(d));
  CHECK(d == -7.0);
  CHECK_FALSE(field_value{"7"}.as_number(d));
  CHECK(*field_value{"s"}.as_string() == "s");
  CHECK(*field_value{byte_array{"b"}}.as_string() == "b");
  CHECK(field_value{timestamp_value{1}}.as_string() == nullptr);
  CHECK_FALSE(field_value{"same"} == field_value{byte_array{"same"}});
  CHECK(field_value{}.get_if<void_value>() != nullptr);
}

TEST_CASE("encode_table / decode_table keep a table as opaque bytes; empty bytes are an empty table") {
  field_table t;
  t.set("x-max-length", std::int32_t(10));
  CHECK(roost::amqp::decode_table(roost::amqp::encode_table(t)) == t);
  CHECK(roost::amqp::decode_table("").empty());
  CHECK(roost::amqp::encode_table(field_table{}) == std::string(4, '\0'));
}
