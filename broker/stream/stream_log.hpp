// A stream's log: every message gets the next 64-bit offset and an append
// time (RabbitMQ's chunks, the messages its writer got together, are single
// messages here: x-stream-offset "last" is the last message, and credit is
// counted in messages), offsets are grouped into segments (closed at
// x-stream-max-segment-size-bytes), and retention removes whole segments
// from the head, never the newest one and never a message in the middle.
//
// The log keeps the numbers of every segment and, in memory, only its most
// recent messages (the tail): everything else is in the store, read back by
// the stream's readers. Pure bookkeeping: no store, no timers, no threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "broker/model/message.hpp"
#include "broker/stream/stream_arguments.hpp"
#include "storage/store.hpp"

namespace roost {

struct stream_record {
  message_ref msg;
  std::uint64_t offset = 0;
  std::int64_t appended_at_ms = 0;
};

struct stream_segment {
  std::uint64_t first_offset = 0;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;  // body bytes
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
};

// A stream entry's seq in the store: offsets start at 0, seqs at 1 (0 is
// "before everything" for a load).
constexpr std::uint64_t seq_of(std::uint64_t offset) { return offset + 1; }
constexpr std::uint64_t offset_of(std::uint64_t seq) { return seq - 1; }

class stream_log {
 public:
  // At most tail_messages messages and tail_bytes body bytes stay in memory;
  // 0 messages keeps everything (no store to read the rest back from).
  stream_log(std::size_t tail_messages, std::uint64_t tail_bytes)
      : tail_messages_(tail_messages), tail_bytes_(tail_bytes) {}

  struct appended {
    stream_record record;
    bool starts_segment = false;
  };
  // Appends at the next offset, stamped max(now_ms, the last append time) so
  // that append times never go backwards.
  appended append(message_ref msg, std::int64_t now_ms, std::int64_t max_segment_bytes);
  // Drops whole segments from the head, never the last one, while the log is
  // over max-length-bytes or a segment's newest message is older than
  // max-age. Returns how many segments went.
  std::size_t retain(const stream_arguments& args, std::int64_t now_ms);

  std::uint64_t first_offset() const { return segments_.empty() ? next_offset_ : segments_.front().first_offset; }
  std::uint64_t next_offset() const { return next_offset_; }
  std::uint64_t message_count() const { return next_offset_ - first_offset(); }
  std::uint64_t bytes() const { return bytes_; }
  const std::deque<stream_segment>& segments() const { return segments_; }
  // The message at `offset` when it is still in the in-memory tail.
  const stream_record* in_memory(std::uint64_t offset) const;
  // The oldest offset in the tail (next_offset() when it is empty).
  std::uint64_t memory_first_offset() const { return tail_.empty() ? next_offset_ : tail_.front().offset; }
  // Where a consumer asking for `start` begins: at least first_offset(), at
  // most next_offset() except for an explicit offset beyond it.
  std::uint64_t resolve(const stream_start& start) const;

  // Recovery: the segments the store summarised (ascending, by seq), and
  // the highest seq it holds: appends go on after it whatever the segment
  // rows say (a damaged store must not make new entries collide with old ones).
  void restore(const std::vector<storage::segment_summary>& segments, std::uint64_t max_seq);

 private:
  void trim_tail();

  std::size_t tail_messages_;
  std::uint64_t tail_bytes_;
  std::deque<stream_segment> segments_;
  std::deque<stream_record> tail_;
  std::uint64_t tail_body_bytes_ = 0;
  std::uint64_t next_offset_ = 0;
  std::uint64_t bytes_ = 0;
  std::int64_t last_ms_ = 0;
};

}  // namespace roost
