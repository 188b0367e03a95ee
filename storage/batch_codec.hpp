// A committed store batch as bytes: what a cluster's leader ships to its
// followers, who apply it through the same store (submit, one transaction)
// as their own writes. Replication has no second write path: the batch is
// the operations the leader's writer thread committed, after coalescing.
//
// Format (all integers big-endian):
//   u8 version (1) | u64 epoch | u64 seq | u32 count | count x operation
//   operation: u8 tag (its index in storage::operation) | its fields in
//   declaration order: strings and blobs as u32 length + bytes, bools as
//   one byte (0/1), u32/u64/i64 as 4/8 bytes, an optional<i64> as a
//   presence byte then the value, a list of ids as u32 count + u64s.
// The tags are the wire format: new operations go at the end of the
// variant. load_entries (a read) is never encoded.
//
// Decoding trusts nothing: every length is checked against what is left,
// and a malformed batch throws bad_batch without touching a store.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.hpp"

namespace roost::storage {

class bad_batch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Appends the batch's encoding to out. Null entries (coalesced away) and
// reads are skipped.
void encode_batch(batch_position position, const std::vector<const operation*>& ops, std::string& out);

struct decoded_batch {
  batch_position position;
  // Messages' contents point into the encoded bytes, which their
  // keep_alive holds.
  std::vector<operation> ops;
};

decoded_batch decode_batch(std::shared_ptr<const std::string> encoded);

}  // namespace roost::storage
