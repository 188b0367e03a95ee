// A stream queue's behaviour behind its queue: appends go to the log and the
// store, and each consumer is a reader with its own position that is never
// removed from anything: acks only give credit back (and, with server-side
// offset tracking, move the offset kept under the consumer's tag).
//
// A message is kept as it will be delivered: its properties carry the
// x-stream-offset header from the append on (in memory and in the store),
// so a delivery costs what a queue's does, however many readers there are.
// Readers read the in-memory tail of the log, or else batches ("chunks") of
// entries loaded from the store and shared by every reader passing through
// them, so ten readers replaying the same stream cost one read of it. A
// reader at the end waits for the next append. Broker thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/common/lifetime_token.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/stream/chunk_cache.hpp"
#include "broker/stream/stream_arguments.hpp"
#include "broker/stream/stream_log.hpp"

namespace roost {

class queue;
class consumer;

struct stream_reader {
  consumer* target = nullptr;
  std::string tag;
  std::uint64_t next = 0;          // the next offset it looks at
  std::int64_t not_before_ms = 0;  // skips messages appended earlier (a timestamp start); 0: none
  std::vector<std::string> filter;
  bool match_unfiltered = false;
  bool track_offsets = false;
  bool tracked_dirty = false;  // an ack moved its offset since the store last had it
  std::optional<std::uint64_t> acked;
  // The chunk it last read from (kept alive while it reads on, even if the cache drops it).
  stream_chunk chunk;
};

class stream {
 public:
  stream(queue& owner, storage_context* storage, stream_arguments args);
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  const stream_log& log() const { return log_; }
  // In force (with policies), and as declared.
  const stream_arguments& arguments() const { return args_; }
  const stream_arguments& declared_arguments() const { return declared_; }
  // Policies changed the retention or segment size; retention runs at the next segment.
  void set_arguments(const stream_arguments& args) { args_ = args; }

  // Appends a copy of msg with the x-stream-offset header; the store writes
  // (that content, its entry, a new segment's start, what retention
  // removes) go into `writes` for the caller's one submission.
  void append(const message_ref& msg, std::vector<storage::operation>& writes);

  void attach(consumer* c, std::string tag, const stream_consumer_options& options);
  void detach(consumer* c);
  // Hands every reader what its credit allows, loading from the store where needed.
  void dispatch();
  // The same for c's reader alone (its credit came back).
  void resume(const consumer* c);
  // A delivery of this stream was acked: that only gives credit back (the
  // channel's business) and moves a tracking consumer's offset.
  void acked(const consumer* c, std::uint64_t offset);
  // Writes the tracked offsets acks moved (one row per consumer).
  void flush_offsets();

  // Reads up to `limit` messages from offset `from` on (appended at or
  // after not_before_ms, when not 0) without any consumer, from memory or
  // the store, and hands them to `done` on the broker thread: at once when
  // memory has them, after the loads otherwise. A stream deleted meanwhile
  // hands over what it had read.
  using browsed = std::function<void(std::vector<stream_record>)>;
  void browse(std::uint64_t from, std::int64_t not_before_ms, std::size_t limit, browsed done);

  const std::vector<std::unique_ptr<stream_reader>>& readers() const { return readers_; }
  const std::map<std::string, std::uint64_t, std::less<>>& tracked_offsets() const { return tracked_; }

  void restore(const storage::queue_summary& stored);
  ~stream();

 private:
  struct browse_state {
    stream_reader position;  // no consumer: only its offset, start time and chunk
    std::size_t limit = 0;
    std::vector<stream_record> out;
    browsed done;
  };
  // Reads on until the browse is full, at the end, or waiting for a load.
  void step(const std::shared_ptr<browse_state>& b);
  void finish(const std::shared_ptr<browse_state>& b);
  void serve(stream_reader& r);
  bool wanted(stream_reader& r, const stream_record& record) const;
  // The record at r.next in memory: the tail or a loaded chunk; null if neither.
  const stream_record* record_for(stream_reader& r);
  // Starts loading the chunk from `offset`, unless a load in flight covers it.
  void load_from(std::uint64_t offset);
  // The same for a chunk a reader will want soon, unless memory has it.
  void read_ahead(std::uint64_t offset);
  void loaded(std::uint64_t first, std::vector<storage::loaded_entry>& entries);
  // The lowest offset a reader or a browse will read next (the next offset when none).
  std::uint64_t slowest_position() const;
  void release_cache_if_idle();
  void apply_retention(std::vector<storage::operation>& writes);
  bool persisted() const;

  queue& owner_;
  storage_context* storage_;
  stream_arguments declared_;
  stream_arguments args_;
  stream_log log_;
  std::vector<std::unique_ptr<stream_reader>> readers_;
  std::map<std::string, std::uint64_t, std::less<>> tracked_;
  chunk_cache chunks_;
  std::map<std::uint64_t, std::uint64_t> loading_;  // first offset -> entries asked for
  std::vector<std::shared_ptr<browse_state>> browsing_;  // waiting for a load
  std::size_t tracking_readers_ = 0;  // acks matter only when some reader tracks its offset
  bool offsets_dirty_ = false;
  bool dispatching_ = false;
  lifetime_token<stream> alive_{this};
};

}  // namespace roost
