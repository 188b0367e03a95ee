// The frame reader: a new connection's first bytes, from the protocol
// header on, as a client (or anything else that connects to 5672) sends
// them: the header check, the 7-byte frame header, the frame_max check,
// the frame-end octet, heartbeats and unknown frame types, and whatever
// handshake the bytes happen to spell. See connection_driver.hpp for what
// is checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/connection_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  roost::fuzz::connection_driver driver;
  driver.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
