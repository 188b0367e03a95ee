// Method decoding: a method frame's payload (class id, method id,
// arguments) through the codec's dispatch table, as the connection and the
// channels decode it.
//
// Whatever decodes must survive a round trip: encoding the decoded method
// and decoding that again gives a method that encodes to the same bytes.
// (Not the input's bytes: a bit octet with stray high bits, or a table
// boolean of 2, is read leniently and written canonically.) Malformed input
// may only end in decode_error, which the connection turns into 501/502.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amqp/method_codec.hpp"
#include "fuzz/check.hpp"

namespace {

using namespace roost::amqp;

std::string encoded(const auto& method) {
  std::string out;
  wire_writer w(out);
  encode_method(w, method);
  return out;
}

// Takes every method in all_methods (dispatch_table builds its table from
// whichever on() overloads exist).
struct round_trip {
  template <class M>
  void on(const M& decoded) {
    std::string once = encoded(decoded);
    wire_reader in(once);
    roost::fuzz::require(in.u32() == M::id.key(), "encoded method starts with its own ids");
    M again = decode_arguments<M>(in);
    roost::fuzz::require(in.at_end(), "decoding an encoded method uses every byte");
    roost::fuzz::require(encoded(again) == once, "encode(decode(encode(m))) == encode(m)");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wire_reader in(data, size);
  try {
    std::uint16_t class_id = in.u16();
    std::uint16_t method_id = in.u16();
    auto handle = dispatch_table<round_trip>::find(method_key(class_id, method_id));
    if (handle == nullptr) return 0;
    round_trip check;
    handle(check, in);
  } catch (const decode_error&) {
  }
  return 0;
}
