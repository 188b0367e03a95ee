// The stream_chunks table: a stream's messages, packed by the writer into
// one row per run of appends (storage/stream_chunk.hpp for the blob).
//
// Appends of one transaction to one stream gather in a pending chunk until
// something else must see the table (flush(): before any operation that
// reads or removes rows, and before the commit), the chunk reaches its
// size bound, or an append does not follow on (another seq). Writer thread
// only; part of operation_executor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/sqlite.hpp"
#include "storage/store.hpp"
#include "storage/stream_chunk.hpp"

namespace roost::storage {

class stream_chunk_table {
 public:
  explicit stream_chunk_table(sqlite::database& db);

  void append(const append_stream& op);
  // Writes the pending chunks.
  void flush();
  // Forgets the pending chunks (their transaction failed).
  void discard() { pending_.clear(); }
  // Removes the chunks that lie wholly in from_seq <= seq < to_seq.
  void remove(std::uint64_t queue_id, std::uint64_t from_seq, std::uint64_t to_seq);
  // Fills op.into as load_entries says, from the stream's chunks. A damaged
  // chunk ends the read where the damage starts.
  void load(const load_entries& op);

 private:
  struct pending_chunk {
    std::uint64_t queue_id = 0;
    chunk_header head;
    std::string data;
  };
  void write(const pending_chunk& c);

  std::vector<pending_chunk> pending_;  // one per stream appended to since the last flush
  sqlite::statement insert_;
  sqlite::statement remove_;
  sqlite::statement load_;
};

// Schema step 6: the messages of streams made under step 5 (entries and
// messages rows) become chunks, cut at segment starts.
void move_stream_entries_to_chunks(sqlite::database& db);

}  // namespace roost::storage
