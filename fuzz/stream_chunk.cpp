// A stream chunk as the store hands it back (storage/stream_chunk): any
// bytes, as from a damaged data dir, must read as messages or stop with
// bad_chunk, and the format is canonical: the messages read encode back to
// exactly the bytes they were read from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "storage/stream_chunk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  roost::storage::chunk_reader reader(input);
  std::string again;
  bool whole = true;
  try {
    while (auto m = reader.next()) roost::storage::append_to_chunk(again, *m);
  } catch (const roost::storage::bad_chunk&) {
    whole = false;
  }
  roost::fuzz::require(input.substr(0, again.size()) == again, "messages read encode back to their bytes");
  roost::fuzz::require(!whole || again.size() == size, "a chunk read to its end is all messages");
  return 0;
}
