// The replication port's messages as a leader reads them from anyone who
// connects (replication/link_messages): a frame header and a hello or a
// forward before the peer is proven, acks after. Any bytes must parse or be
// refused with bad_message; a hello or forward that parses must encode back
// to the same bytes (the format is canonical), and no proof but the real
// one matches.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "replication/link_messages.hpp"

using namespace roost::replication;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    frame_header h = parse_frame_header(input, max_handshake_frame);
    roost::fuzz::require(h.payload_size <= max_handshake_frame, "a header over the limit is refused");
  } catch (const bad_message&) {
  }
  std::string_view payload = input.size() > frame_header_size ? input.substr(frame_header_size) : std::string_view();
  try {
    hello h = parse_hello(payload);
    std::string again = hello_frame(h);
    roost::fuzz::require(again.substr(frame_header_size) == payload, "a hello encodes back to its bytes");
    roost::fuzz::require(proof_matches("secret", "nonce", h) == (h.proof == hello_proof("secret", "nonce", h.node_id)),
                         "only the real proof matches");
  } catch (const bad_message&) {
  }
  try {
    forward f = parse_forward(payload);
    std::string again = forward_frame(f);
    roost::fuzz::require(again.substr(frame_header_size) == payload, "a forward encodes back to its bytes");
    roost::fuzz::require(proof_matches("secret", "nonce", f) == (f.proof == forward_proof("secret", "nonce", f)),
                         "only the real proof matches");
  } catch (const bad_message&) {
  }
  try {
    parse_ack(payload);
  } catch (const bad_message&) {
  }
  try {
    parse_challenge(payload);
    parse_refuse(payload);
  } catch (const bad_message&) {
  }
  return 0;
}
