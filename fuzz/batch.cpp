// A replication batch as a follower receives it from the leader
// (storage/batch_codec): any bytes must decode into operations or be
// refused with bad_batch, and the format is canonical, so a batch that
// decodes must encode back to exactly the bytes it came from.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/check.hpp"
#include "storage/batch_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto input = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  roost::storage::decoded_batch batch;
  try {
    batch = roost::storage::decode_batch(input);
  } catch (const roost::storage::bad_batch&) {
    return 0;
  }
  std::vector<const roost::storage::operation*> ops;
  for (const auto& op : batch.ops) ops.push_back(&op);
  std::string again;
  roost::storage::encode_batch(batch.position, ops, again);
  roost::fuzz::require(again == *input, "a decoded batch encodes back to its bytes");
  return 0;
}
