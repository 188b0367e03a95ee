// The one generic encoder/decoder for every method in methods.hpp, and the
// dispatch table that routes a decoded method to its handler.
//
// A method's fields() lists member pointers in wire order; the member's type
// picks the wire kind. Consecutive bools share an octet, low bit first, as
// the spec requires; any other field ends the run of bits.
#pragma once

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include "amqp/methods.hpp"
#include "amqp/wire.hpp"

namespace roost::amqp {

namespace detail {

template <class Handler, class M>
constexpr bool handles = requires(Handler& h, const M& m) { h.on(m); };

struct bit_reader {
  wire_reader& in;
  std::uint8_t bits = 0;
  int next_bit = 8;  // 8 = no octet loaded

  void read(bool& v) {
    if (next_bit == 8) {
      bits = in.u8();
      next_bit = 0;
    }
    v = (bits >> next_bit++) & 1;
  }
  void read(std::uint8_t& v) { next_bit = 8, v = in.u8(); }
  void read(std::uint16_t& v) { next_bit = 8, v = in.u16(); }
  void read(std::uint32_t& v) { next_bit = 8, v = in.u32(); }
  void read(std::uint64_t& v) { next_bit = 8, v = in.u64(); }
  void read(std::string& v) { next_bit = 8, v.assign(in.shortstr()); }
  void read(longstr& v) { next_bit = 8, v.value.assign(in.longstr()); }
  void read(field_table& v) { next_bit = 8, v = in.table(); }
};

struct bit_writer {
  wire_writer& out;
  std::uint8_t bits = 0;
  int next_bit = 0;  // bits pending in `bits`

  void flush() {
    if (next_bit > 0) out.u8(bits);
    bits = 0;
    next_bit = 0;
  }
  void write(bool v) {
    if (next_bit == 8) flush();
    bits |= static_cast<std::uint8_t>((v ? 1 : 0) << next_bit++);
  }
  void write(std::uint8_t v) { flush(), out.u8(v); }
  void write(std::uint16_t v) { flush(), out.u16(v); }
  void write(std::uint32_t v) { flush(), out.u32(v); }
  void write(std::uint64_t v) { flush(), out.u64(v); }
  void write(const std::string& v) { flush(), out.shortstr(v); }
  void write(const longstr& v) { flush(), out.longstr(v.value); }
  void write(const field_table& v) { flush(), out.table(v); }
};

}  // namespace detail

// Decodes a method's arguments (the part after class and method id).
template <class M>
M decode_arguments(wire_reader& in) {
  M m;
  detail::bit_reader r{in};
  std::apply([&](auto... member) { (r.read(m.*member), ...); }, M::fields());
  return m;
}

// Appends class id, method id and the arguments: a method frame's payload.
template <class M>
void encode_method(wire_writer& out, const M& m) {
  out.u16(M::id.class_id);
  out.u16(M::id.method_id);
  detail::bit_writer w{out};
  std::apply([&](auto... member) { (w.write(m.*member), ...); }, M::fields());
  w.flush();
}

// A sorted table from method id to the handler for that method, built at
// compile time from all_methods and whichever on(const M&) overloads Handler
// has. Methods a handler lacks are simply absent, and the caller answers
// them as unexpected.
template <class Handler>
class dispatch_table {
 public:
  using entry_fn = void (*)(Handler&, wire_reader&);

  // Returns nullptr for a method id this handler does not take.
  static entry_fn find(std::uint32_t key) {
    auto it = std::lower_bound(entries_.begin(), entries_.begin() + count_, key,
                               [](const entry& e, std::uint32_t k) { return e.key < k; });
    return it != entries_.begin() + count_ && it->key == key ? it->fn : nullptr;
  }

 private:
  struct entry {
    std::uint32_t key = 0;
    entry_fn fn = nullptr;
  };

  template <class M>
  static void call(Handler& h, wire_reader& in) {
    h.on(decode_arguments<M>(in));
  }

  template <class... Ms>
  static constexpr std::size_t count_handled(method_list<Ms...>) {
    return (std::size_t{0} + ... + (detail::handles<Handler, Ms> ? 1 : 0));
  }

  static constexpr std::size_t count_ = count_handled(all_methods{});

  template <class... Ms>
  static constexpr std::array<entry, count_> build(method_list<Ms...>) {
    std::array<entry, count_> out{};
    std::size_t n = 0;
    (
        [&] {
          if constexpr (detail::handles<Handler, Ms>) out[n++] = entry{Ms::id.key(), &call<Ms>};
        }(),
        ...);
    std::sort(out.begin(), out.end(), [](const entry& a, const entry& b) { return a.key < b.key; });
    return out;
  }

  static constexpr std::array<entry, count_> entries_ = build(all_methods{});
};

}  // namespace roost::amqp
