// A stream's messages as the store keeps them: one row per chunk, the
// messages one transaction appended to one stream (a few thousand at most),
// in one blob. A row per chunk instead of two rows per message is what lets
// a confirmed publish into a stream cost a few hundred nanoseconds of the
// writer thread, and a replay read thousands of messages per row.
//
// Format of the blob, message after message (integers big-endian):
//   i64 appended_at_ms | u32 length + exchange | u32 length + routing key |
//   u32 length + properties | u32 length + body
// A message's seq is the chunk's first_seq plus its place in the chunk.
//
// Reading trusts nothing: bytes that end inside a message throw bad_chunk
// (a damaged row), after the messages before them were read.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace roost::storage {

struct chunk_message {
  std::int64_t appended_at_ms = 0;
  std::string_view exchange;
  std::string_view routing_key;
  std::string_view properties;
  std::string_view body;
  bool operator==(const chunk_message&) const = default;
};

// The columns of a chunk row beside its blob: what the writer fills in as
// it packs appends, and what recovery reads without the blob.
struct chunk_header {
  std::uint64_t first_seq = 0;
  std::uint64_t count = 0;
  std::uint64_t body_bytes = 0;
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
};

class bad_chunk : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Appends one message to a chunk's bytes.
void append_to_chunk(std::string& chunk, const chunk_message& m);

class chunk_reader {
 public:
  explicit chunk_reader(std::string_view chunk) : rest_(chunk) {}
  // The next message (its views point into the chunk), or nullopt at the end.
  std::optional<chunk_message> next();

 private:
  std::string_view take(std::size_t n);
  std::uint64_t number(std::size_t bytes);
  std::string_view field();

  std::string_view rest_;
};

}  // namespace roost::storage
