// The whole connection state machine after a valid handshake: the input is
// what a logged-in client (guest on "/") sends next, any frames on any
// channels: channel life cycle, declarations, publishes assembled from
// method, header and body frames, consumers, acks, confirms, transactions,
// and every error path in between. See connection_driver.hpp for what is
// checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/connection_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  roost::fuzz::connection_driver driver;
  driver.log_in();
  driver.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
