// Basic content properties tests (amqp/properties.hpp/.cpp): all 14
// properties round-trip together and one at a time, each owning the right
// flag bit (content-type bit 15 ... cluster-id bit 2, so delivery-mode alone
// is 0x1000); scan_properties picks out delivery-mode, priority, expiration,
// user-id, reply-to and the raw headers bytes (which decode to the same
// table) and nothing else; a set continuation bit (bit 0), a truncated list
// at any cut point, or a malformed headers table throws decode_error from
// both decode_properties and scan_properties; and a content header captured
// from pika decodes to the expected properties and re-encodes identically.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "amqp/frame.hpp"
#include "amqp/properties.hpp"
#include "tests/unit/golden_frames.hpp"

using namespace roost::amqp;
using roost::test::bytes_of;
using roost::test::hex;
using roost::test::unhex;
namespace golden = roost::test::golden;

namespace {

constexpr std::size_t property_count = std::tuple_size_v<decltype(basic_properties::fields())>;

template <class F>
void for_each_property(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}, std::get<I>(basic_properties::fields())), ...);
  }(std::make_index_sequence<property_count>{});
}

field_table sample_headers() {
  field_table t;
  t.set("x-int", std::int32_t{-1});
  t.set("x-list", field_array{field_value{"a"}, field_value{std::int64_t{1} << 50}});
  t.set("x-table", field_table{{{"k", field_value{void_value{}}}}});
  return t;
}

// A distinctive value for the property at `index`, by its type.
template <class T>
T sample(std::size_t index) {
  if constexpr (std::is_same_v<T, std::string>) return "p" + std::to_string(index) + std::string(index * 10, '-');
  else if constexpr (std::is_same_v<T, std::uint8_t>) return static_cast<std::uint8_t>(0xf0 + index);
  else if constexpr (std::is_same_v<T, std::uint64_t>) return 0x8000000000000000ull + index;
  else return sample_headers();
}

void set_sample(basic_properties& p, auto index, auto member) {
  using value_type = typename std::remove_reference_t<decltype(p.*member)>::value_type;
  (p.*member) = sample<value_type>(index);
}

basic_properties all_properties() {
  basic_properties p;
  for_each_property([&](auto index, auto member) { set_sample(p, index, member); });
  return p;
}

std::string encode(const basic_properties& p) {
  std::string out;
  wire_writer w(out);
  encode_properties(w, p);
  return out;
}

std::uint16_t flags_of(std::string_view raw) {
  REQUIRE(raw.size() >= 2);
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(raw[0]) << 8 | static_cast<std::uint8_t>(raw[1]));
}

std::string encoded_table(const field_table& t) {
  std::string out;
  wire_writer w(out);
  w.table(t);
  return out;
}

}  // namespace

TEST_CASE("no properties encode as a zero flags word") {
  CHECK(hex(encode(basic_properties{})) == "00 00");
  CHECK(decode_properties(unhex("0000")) == basic_properties{});
  const property_summary s = scan_properties(unhex("0000"));
  CHECK(s.delivery_mode == 0);
  CHECK_FALSE(s.priority.has_value());
  CHECK_FALSE(s.expiration.has_value());
  CHECK_FALSE(s.user_id.has_value());
  CHECK_FALSE(s.reply_to.has_value());
  CHECK_FALSE(s.headers.has_value());
}

TEST_CASE("all 14 properties round-trip") {
  CHECK(property_count == 14);
  const basic_properties p = all_properties();
  const std::string raw = encode(p);
  CHECK(flags_of(raw) == 0xfffc);
  CHECK(decode_properties(raw) == p);
  CHECK(encode(decode_properties(raw)) == raw);
}

TEST_CASE("each property alone owns one flag bit, first property highest") {
  for_each_property([&](auto index, auto member) {
    INFO("property index ", index());
    basic_properties p;
    set_sample(p, index, member);
    const std::string raw = encode(p);
    CHECK(flags_of(raw) == (1u << (15 - index())));
    CHECK(decode_properties(raw) == p);
  });
  basic_properties p;
  p.delivery_mode = 2;
  CHECK(hex(encode(p)) == "10 00 02");
  p.delivery_mode.reset();
  p.content_type = "text/plain";
  p.timestamp = 0x0102030405060708;
  CHECK(hex(encode(p)) == hex(unhex("8040 0a") + "text/plain" + unhex("0102030405060708")));
}

TEST_CASE("scan_properties extracts what routing needs") {
  const basic_properties p = all_properties();
  const std::string raw = encode(p);
  const property_summary s = scan_properties(raw);
  CHECK(s.delivery_mode == *p.delivery_mode);
  CHECK(s.priority == p.priority);
  REQUIRE(s.expiration.has_value());
  CHECK(*s.expiration == *p.expiration);
  REQUIRE(s.user_id.has_value());
  CHECK(*s.user_id == *p.user_id);
  REQUIRE(s.reply_to.has_value());
  CHECK(*s.reply_to == *p.reply_to);
  REQUIRE(s.headers.has_value());
  CHECK(hex(*s.headers) == hex(encoded_table(*p.headers)));
  wire_reader headers(*s.headers);
  CHECK(headers.table() == *p.headers);
  CHECK(headers.at_end());
  // The views point into the raw bytes, not into copies.
  CHECK(s.headers->data() >= raw.data());
  CHECK(s.headers->data() + s.headers->size() <= raw.data() + raw.size());
}

TEST_CASE("scan_properties leaves absent properties unset") {
  basic_properties p;
  p.user_id = "guest";
  p.headers = field_table{};
  p.cluster_id = "after";
  const std::string raw = encode(p);  // the summary's views point into it
  const property_summary s = scan_properties(raw);
  CHECK(s.delivery_mode == 0);
  CHECK_FALSE(s.priority.has_value());
  CHECK_FALSE(s.expiration.has_value());
  CHECK_FALSE(s.reply_to.has_value());
  REQUIRE(s.user_id.has_value());
  CHECK(*s.user_id == "guest");
  REQUIRE(s.headers.has_value());
  CHECK(hex(*s.headers) == "00 00 00 00");

  // Look-alike neighbours (correlation-id next to reply-to, message-id next
  // to expiration, app-id next to user-id) must not be mistaken for them.
  basic_properties q;
  q.correlation_id = "corr";
  q.message_id = "msg";
  q.app_id = "app";
  q.priority = 0;
  const std::string raw_q = encode(q);
  const property_summary t = scan_properties(raw_q);
  CHECK_FALSE(t.reply_to.has_value());
  CHECK_FALSE(t.expiration.has_value());
  CHECK_FALSE(t.user_id.has_value());
  CHECK(t.priority == std::optional<std::uint8_t>{0});
}

TEST_CASE("a set continuation bit (flag bit 0) is malformed") {
  for (const char* raw : {"0001", "1001 02", "ffff"}) {
    INFO("raw ", raw);
    CHECK_THROWS_AS(decode_properties(unhex(raw)), decode_error);
    CHECK_THROWS_AS(scan_properties(unhex(raw)), decode_error);
  }
}

TEST_CASE("every truncation of a property list throws from decode and scan") {
  const std::string raw = encode(all_properties());
  for (std::size_t cut = 0; cut < raw.size(); ++cut) {
    INFO("cut at ", cut, " of ", raw.size());
    // An exact-size copy, so a read past the cut is a real overflow.
    const std::vector<char> prefix(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string_view view(prefix.data(), prefix.size());
    CHECK_THROWS_AS(decode_properties(view), decode_error);
    CHECK_THROWS_AS(scan_properties(view), decode_error);
  }
}

TEST_CASE("scan_properties validates the headers table it does not decode") {
  // headers flag, then a table holding a value with the unknown tag 'U'.
  const std::string bad_tag = unhex("2000 00000005 01 61 55 0001");
  CHECK_THROWS_AS(decode_properties(bad_tag), decode_error);
  CHECK_THROWS_AS(scan_properties(bad_tag), decode_error);
  // headers table claims more bytes than follow.
  const std::string overrun = unhex("2000 00000010 01 61 56");
  CHECK_THROWS_AS(decode_properties(overrun), decode_error);
  CHECK_THROWS_AS(scan_properties(overrun), decode_error);
}

TEST_CASE("golden: content header with all properties from pika") {
  const std::string_view frame = bytes_of(golden::content_header_frame);
  REQUIRE(frame.size() > frame_overhead + 14);
  auto header = parse_frame_header(reinterpret_cast<const std::uint8_t*>(frame.data()));
  CHECK(header.type == static_cast<std::uint8_t>(frame_type::header));
  CHECK(header.channel == 5);
  REQUIRE(header.size == frame.size() - frame_overhead);
  wire_reader in(frame.substr(frame_header_size, header.size));
  CHECK(in.u16() == 60);  // class
  CHECK(in.u16() == 0);   // weight
  CHECK(in.u64() == 10000);
  const std::string_view raw = in.bytes(in.remaining());

  basic_properties expected;
  expected.content_type = "text/plain";
  expected.content_encoding = "gzip";
  field_table deep;
  deep.set("deep", field_array{field_value{std::int32_t{1}}, field_value{"x"}, field_value{void_value{}}});
  expected.headers = field_table{{{"n", field_value{std::int32_t{7}}}, {"s", field_value{"str"}}, {"t", deep}}};
  expected.delivery_mode = 2;
  expected.priority = 9;
  expected.correlation_id = "c1";
  expected.reply_to = "amq.rabbitmq.reply-to";
  expected.expiration = "60000";
  expected.message_id = "m1";
  expected.timestamp = 1700000000;
  expected.type = "t1";
  expected.user_id = "guest";
  expected.app_id = "app";
  expected.cluster_id = "cl";
  CHECK(decode_properties(raw) == expected);
  CHECK(hex(encode(expected)) == hex(raw));

  const property_summary s = scan_properties(raw);
  CHECK(s.delivery_mode == 2);
  CHECK(s.priority == std::optional<std::uint8_t>{9});
  CHECK(s.expiration == std::optional<std::string_view>{"60000"});
  CHECK(s.user_id == std::optional<std::string_view>{"guest"});
  CHECK(s.reply_to == std::optional<std::string_view>{"amq.rabbitmq.reply-to"});
  REQUIRE(s.headers.has_value());
  CHECK(hex(*s.headers) == hex(encoded_table(*expected.headers)));

  std::string out;
  append_content_header(out, 5, 10000, encode(expected));
  CHECK(hex(out) == hex(frame));
}

TEST_CASE("with_header adds or replaces one header, spliced in or decoded, the same either way") {
  auto encoded = [](const basic_properties& p) {
    std::string out;
    wire_writer w(out);
    encode_properties(w, p);
    return out;
  };
  // What decoding, setting and encoding again gives: the reference.
  auto reference = [](basic_properties p, const std::string& key, const field_value& v) {
    if (!p.headers) p.headers.emplace();
    p.headers->set(key, v);
    return p;
  };
  basic_properties none;
  basic_properties before_headers;
  before_headers.content_type = "text/plain";
  before_headers.content_encoding = "gzip";
  before_headers.delivery_mode = 2;
  before_headers.message_id = "m1";
  basic_properties with_headers = before_headers;
  with_headers.headers = field_table{};
  with_headers.headers->set("a", std::int32_t{1});
  basic_properties key_there = with_headers;
  key_there.headers->set("x-stream-offset", std::int64_t{99});  // a publisher's own: replaced in place
  for (const basic_properties& p : {none, before_headers, with_headers, key_there}) {
    std::string raw = encoded(p);
    basic_properties got = decode_properties(with_header(raw, "x-stream-offset", std::int64_t{7}));
    CHECK(got == reference(p, "x-stream-offset", std::int64_t{7}));
  }
  CHECK_THROWS_AS(with_header(std::string("\x01", 1), "k", std::int64_t{1}), decode_error);
}
