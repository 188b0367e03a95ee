// Method codec tests (amqp/methods.hpp, method_codec.hpp): every
// method in all_methods is filled generically with non-default values (two
// patterns, so every bit is seen both set and clear), encoded, checked for
// its class/method ids, decoded and compared, and every truncation of its
// payload must throw decode_error. Bit packing is checked byte for byte,
// including runs longer than one octet; method frames captured from a real
// client (pika, see golden_frames.hpp) must decode to the expected structs
// and re-encode to identical bytes; dispatch_table finds exactly the methods
// a handler has on() overloads for; method_name knows every id.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "amqp/frame.hpp"
#include "amqp/method_codec.hpp"
#include "tests/unit/golden_frames.hpp"

using namespace roost::amqp;
using roost::test::bytes_of;
using roost::test::hex;
using roost::test::unhex;
namespace golden = roost::test::golden;

namespace {

template <class F, class... Ms>
void for_each_method(method_list<Ms...>, F&& f) {
  (f(std::type_identity<Ms>{}), ...);
}

template <class M>
constexpr std::size_t field_count = std::tuple_size_v<decltype(M::fields())>;

field_table sample_table(int pattern) {
  field_table nested;
  nested.set("count", std::int64_t{-1} << 40);
  nested.set("list", field_array{field_value{true}, field_value{"two"}, field_value{void_value{}}});
  field_table t;
  t.set("x-int", std::int32_t{-7 - pattern});
  t.set("x-str", pattern ? "second" : "first");
  t.set("x-nested", nested);
  return t;
}

// Sets every field of a method to a value that differs from the default
// (except bits, which alternate) and from the other pattern.
struct filler {
  int pattern;  // 0 or 1
  int index = 0;
  int bit = 0;

  void set(bool& v) { v = (bit++ + pattern) % 2 == 0; }
  void set(std::uint8_t& v) { v = static_cast<std::uint8_t>(0xA0 + 2 * index++ + pattern); }
  void set(std::uint16_t& v) { v = static_cast<std::uint16_t>(0xB100 + 2 * index++ + pattern); }
  void set(std::uint32_t& v) { v = 0xC2000000u + static_cast<std::uint32_t>(2 * index++ + pattern); }
  void set(std::uint64_t& v) { v = 0xD300000000000000ull + static_cast<std::uint64_t>(2 * index++ + pattern); }
  // Pattern 1 uses the longest legal shortstr.
  void set(std::string& v) {
    v = pattern ? std::string(255, static_cast<char>('a' + index)) : "x" + std::to_string(index);
    ++index;
  }
  // Longer than 255, with a NUL and a high byte: needs the 32-bit length.
  void set(longstr& v) {
    v.value = std::string(300 + 2 * index++ + pattern, 'L') + std::string("\0\xff", 2);
  }
  void set(field_table& v) {
    v = sample_table(pattern);
    ++index;
  }
};

template <class M>
M filled(int pattern) {
  M m;
  filler f{pattern};
  std::apply([&](auto... member) { (f.set(m.*member), ...); }, M::fields());
  return m;
}

template <class M, class T>
void check_moved_off_default(const M& m, T M::*member) {
  if constexpr (!std::is_same_v<T, bool>) CHECK_FALSE(m.*member == M{}.*member);
}

template <class M>
std::string encode(const M& m) {
  std::string out;
  wire_writer w(out);
  encode_method(w, m);
  return out;
}

// Decodes a method payload (ids first) and checks it used every byte.
template <class M>
M decode_payload(std::string_view payload) {
  wire_reader in(payload);
  CHECK(in.u16() == M::id.class_id);
  CHECK(in.u16() == M::id.method_id);
  M m = decode_arguments<M>(in);
  CHECK(in.at_end());
  return m;
}

template <class M>
void check_round_trip(const M& m) {
  std::string payload = encode(m);
  REQUIRE(payload.size() >= 4);
  CHECK(static_cast<std::uint8_t>(payload[0]) == M::id.class_id >> 8);
  CHECK(static_cast<std::uint8_t>(payload[1]) == (M::id.class_id & 0xff));
  CHECK(static_cast<std::uint8_t>(payload[2]) == M::id.method_id >> 8);
  CHECK(static_cast<std::uint8_t>(payload[3]) == (M::id.method_id & 0xff));
  CHECK(decode_payload<M>(payload) == m);
  CHECK(encode(decode_payload<M>(payload)) == payload);

  // Any strict prefix of the arguments is malformed. The copy is exactly as
  // long as the prefix, so a read past it would be a heap overflow.
  std::string args = payload.substr(4);
  for (std::size_t cut = 0; cut < args.size(); ++cut) {
    std::vector<char> prefix(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(cut));
    wire_reader in(prefix.data(), prefix.size());
    CHECK_THROWS_AS(decode_arguments<M>(in), decode_error);
  }
}

}  // namespace

TEST_CASE("every method round-trips with every field set") {
  int methods = 0;
  for_each_method(all_methods{}, [&]<class M>(std::type_identity<M>) {
    const std::string name(M::name);
    INFO("method ", name);
    ++methods;
    const M a = filled<M>(0);
    const M b = filled<M>(1);
    // The filler really moved every non-bit field off its default.
    std::apply([&](auto... member) { (check_moved_off_default(a, member), ...); }, M::fields());
    if constexpr (field_count<M> > 0) {
      CHECK_FALSE(a == M{});
      CHECK_FALSE(a == b);
    }
    check_round_trip(M{});
    check_round_trip(a);
    check_round_trip(b);
  });
  CHECK(methods == 66);  // all of 0-9-1 as RabbitMQ speaks it; update when a method is added
}

TEST_CASE("method ids and names are unique and method_name knows them all") {
  std::set<std::uint32_t> keys;
  std::set<std::string_view> names;
  for_each_method(all_methods{}, [&]<class M>(std::type_identity<M>) {
    CHECK(keys.insert(M::id.key()).second);
    CHECK(names.insert(M::name).second);
    CHECK(M::id.key() == method_key(M::id.class_id, M::id.method_id));
    CHECK(method_name(M::id.class_id, M::id.method_id) == M::name);
  });
  CHECK(method_name(50, 10) == "queue.declare");
  CHECK(method_name(40, 51) == "exchange.unbind-ok");  // RabbitMQ's number, not the spec's 41
  CHECK(method_name(40, 41) == "unknown");
  CHECK(method_name(0, 0) == "unknown");
  CHECK(method_name(60, 0) == "unknown");
  CHECK(method_name(65535, 65535) == "unknown");
  CHECK(method_name(10, 72) == "unknown");
}

TEST_CASE("consecutive bits pack low bit first into one octet") {
  queue_declare m;
  m.queue = "q";
  m.passive = true;
  m.exclusive = true;
  m.no_wait = true;
  // ids, ticket, "q", bits 0b10101 (passive, exclusive, no-wait), empty table
  const std::string expected = unhex("0032 000a 0000 01 71 15 00000000");
  CHECK(hex(encode(m)) == hex(expected));
  CHECK(decode_payload<queue_declare>(expected) == m);

  m.passive = m.exclusive = m.no_wait = false;
  m.durable = m.auto_delete = true;
  CHECK(hex(encode(m)) == hex(unhex("0032 000a 0000 01 71 0a 00000000")));

  // A bit between other fields takes an octet of its own.
  basic_deliver d;
  d.consumer_tag = "c";
  d.delivery_tag = 0x0102030405060708;
  d.redelivered = true;
  d.exchange = "e";
  d.routing_key = "r";
  CHECK(hex(encode(d)) == hex(unhex("003c 003c 01 63 0102030405060708 01 01 65 01 72")));
}

namespace {

// Not a real method: nine bits, an octet, then one more bit, to check that
// a ninth bit starts a second octet and a non-bit field ends a run.
struct many_bits {
  static constexpr method_identity id{999, 1};
  bool b0 = false, b1 = false, b2 = false, b3 = false, b4 = false, b5 = false, b6 = false, b7 = false, b8 = false;
  std::uint8_t octet = 0;
  bool after = false;
  static constexpr auto fields() {
    using s = many_bits;
    return std::tuple{&s::b0, &s::b1, &s::b2, &s::b3, &s::b4, &s::b5, &s::b6, &s::b7, &s::b8, &s::octet, &s::after};
  }
  bool operator==(const many_bits&) const = default;
};

}  // namespace

TEST_CASE("a run of more than eight bits spills into a second octet") {
  many_bits m;
  m.b0 = m.b7 = m.b8 = true;
  m.octet = 0x5a;
  m.after = true;
  const std::string expected = unhex("03e7 0001 81 01 5a 01");
  CHECK(hex(encode(m)) == hex(expected));
  CHECK(decode_payload<many_bits>(expected) == m);
  // Bits the encoder never sets are ignored on input.
  CHECK(decode_payload<many_bits>(unhex("03e7 0001 81 fd 5a ff")) == m);
}

namespace {

// Decodes a captured method frame, compares it with the expected struct and
// checks that encoding that struct gives back exactly the captured bytes.
template <class M>
void check_golden(std::string_view frame, std::uint16_t channel, const M& expected) {
  REQUIRE(frame.size() >= frame_overhead);
  auto header = parse_frame_header(reinterpret_cast<const std::uint8_t*>(frame.data()));
  CHECK(header.type == static_cast<std::uint8_t>(frame_type::method));
  CHECK(header.channel == channel);
  REQUIRE(header.size == frame.size() - frame_overhead);
  CHECK(static_cast<std::uint8_t>(frame.back()) == frame_end);
  CHECK(decode_payload<M>(frame.substr(frame_header_size, header.size)) == expected);
  std::string out;
  append_method_frame(out, channel, expected);
  CHECK(hex(out) == hex(frame));
}

field_table table(std::initializer_list<field_entry> entries) { return field_table{entries}; }

}  // namespace

TEST_CASE("golden: connection.start-ok from pika") {
  connection_start_ok m;
  m.client_properties = table({
      {"product", "pika"},
      {"platform", "Python 3"},
      {"capabilities",
       table({{"basic.nack", true}, {"consumer_cancel_notify", true}, {"connection.blocked", true}})},
      {"version", "1.2.0"},
  });
  m.mechanism = "PLAIN";
  m.response.value = std::string("\0guest\0guest", 12);
  m.locale = "en_US";
  check_golden(bytes_of(golden::start_ok_frame), 0, m);
}

TEST_CASE("golden: queue.declare with arguments from pika") {
  queue_declare m;
  m.queue = "q";
  m.durable = true;
  // pika sends ints that fit in 32 bits as 'I', larger ones as 'l'.
  m.arguments = table({
      {"x-max-length", std::int32_t{10}},
      {"x-expires", std::int64_t{1} << 40},
      {"x-queue-type", "classic"},
  });
  check_golden(bytes_of(golden::queue_declare_frame), 1, m);
}

TEST_CASE("golden: basic.publish from pika") {
  basic_publish m;
  m.exchange = "amq.direct";
  m.routing_key = "rk";
  m.mandatory = true;
  check_golden(bytes_of(golden::basic_publish_frame), 3, m);
}

TEST_CASE("golden: basic.consume from pika") {
  basic_consume m;
  m.queue = "q";
  m.consumer_tag = "ctag1";
  m.no_ack = true;
  m.exclusive = true;
  m.arguments = table({{"x-priority", std::int32_t{-5}}});
  check_golden(bytes_of(golden::basic_consume_frame), 2, m);
}

TEST_CASE("golden: basic.ack multiple from pika") {
  basic_ack m;
  m.delivery_tag = (std::uint64_t{1} << 40) + 42;
  m.multiple = true;
  check_golden(bytes_of(golden::basic_ack_frame), 7, m);
}

TEST_CASE("golden: exchange.declare from pika") {
  exchange_declare m;
  m.exchange = "ex";
  m.type = "topic";
  m.durable = true;
  m.internal = true;
  m.arguments = table({{"alternate-exchange", "ae"}});
  check_golden(bytes_of(golden::exchange_declare_frame), 1, m);
}

namespace {

// Takes queue.declare and basic.ack only.
struct two_method_handler {
  std::vector<std::string> calls;
  queue_declare declared;
  basic_ack acked;
  void on(const queue_declare& m) {
    calls.emplace_back("declare");
    declared = m;
  }
  void on(const basic_ack& m) {
    calls.emplace_back("ack");
    acked = m;
  }
};

// Takes everything, and records which type each call arrived as.
struct catch_all_handler {
  std::vector<std::string_view> calls;
  template <class M>
  void on(const M&) {
    calls.push_back(M::name);
  }
};

struct no_method_handler {};

// doctest cannot print function pointers, so assertions use this.
template <class Handler>
bool takes(std::uint32_t key) {
  return dispatch_table<Handler>::find(key) != nullptr;
}

template <class Handler, class M>
void dispatch(Handler& h, const M& m) {
  REQUIRE(takes<Handler>(M::id.key()));
  auto fn = dispatch_table<Handler>::find(M::id.key());
  std::string payload = encode(m);
  wire_reader in(std::string_view(payload).substr(4));
  fn(h, in);
  CHECK(in.at_end());
}

}  // namespace

TEST_CASE("dispatch_table routes to on() overloads and nothing else") {
  two_method_handler h;
  queue_declare d = filled<queue_declare>(0);
  basic_ack a = filled<basic_ack>(1);
  dispatch(h, d);
  dispatch(h, a);
  CHECK(h.calls == std::vector<std::string>{"declare", "ack"});
  CHECK(h.declared == d);
  CHECK(h.acked == a);

  int found = 0;
  for_each_method(all_methods{}, [&]<class M>(std::type_identity<M>) {
    found += takes<two_method_handler>(M::id.key());
    CHECK_FALSE(takes<no_method_handler>(M::id.key()));
  });
  CHECK(found == 2);
  CHECK_FALSE(takes<two_method_handler>(basic_nack::id.key()));
  CHECK_FALSE(takes<two_method_handler>(queue_declare_ok::id.key()));
  CHECK_FALSE(takes<two_method_handler>(method_key(40, 41)));
  CHECK_FALSE(takes<two_method_handler>(0));
  CHECK_FALSE(takes<two_method_handler>(0xffffffff));
}

TEST_CASE("dispatch_table with a catch-all handler decodes each id as its own type") {
  catch_all_handler h;
  std::vector<std::string_view> expected;
  for_each_method(all_methods{}, [&]<class M>(std::type_identity<M>) {
    dispatch(h, filled<M>(0));
    expected.push_back(M::name);
  });
  CHECK(h.calls == expected);
  CHECK_FALSE(takes<catch_all_handler>(method_key(60, 41)));
}

TEST_CASE("truncated arguments reach the handler as decode_error, not a call") {
  two_method_handler h;
  REQUIRE(takes<two_method_handler>(basic_ack::id.key()));
  auto fn = dispatch_table<two_method_handler>::find(basic_ack::id.key());
  const std::string args = unhex("00000000000000");  // 7 of the 9 bytes
  wire_reader in(args);
  CHECK_THROWS_AS(fn(h, in), decode_error);
  CHECK(h.calls.empty());
}

TEST_CASE("a shortstr field over 255 bytes is refused on encode") {
  queue_declare m;
  m.queue = std::string(256, 'q');
  CHECK_THROWS_AS(encode(m), std::length_error);
  m.queue.pop_back();
  CHECK(decode_payload<queue_declare>(encode(m)) == m);
}
