// Reading a stream: each reader walks offsets from its own position. The
// newest messages are in the log's tail; older ones come from the store in
// chunks that stay cached (least recently used first out) while other
// readers may still pass through them, so readers replaying together share
// one read. Only filtering readers decode headers.
#include "broker/stream/stream.hpp"

#include <algorithm>
#include <utility>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/expiry/wall_clock.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

namespace {

// The in-memory tail: what live readers read without the store.
constexpr std::size_t tail_messages = 4096;
constexpr std::uint64_t tail_bytes = 8u << 20;
// A chunk read from the store, and how many stay cached: enough for ten
// readers replaying together at the speeds their clients allow (8 chunks
// made each of them read the store on its own, a third of the rate).
constexpr std::size_t chunk_messages = 2048;
constexpr std::uint64_t chunk_bytes = 8u << 20;
constexpr std::size_t cached_chunks = 64;
constexpr std::uint64_t cache_bytes = 32u << 20;

std::optional<std::string> filter_value(const message& m) {
  try {
    auto raw = amqp::scan_properties(m.properties).headers;
    if (!raw) return std::nullopt;
    amqp::field_table headers = amqp::decode_table(*raw);
    const amqp::field_value* v = headers.find(filter_value_header);
    const std::string* s = v == nullptr ? nullptr : v->as_string();
    if (s == nullptr) return std::nullopt;
    return *s;
  } catch (const amqp::decode_error&) {
    return std::nullopt;
  }
}

// The message as the stream delivers it: its properties with the offset
// header (RabbitMQ replaces a header of that name a publisher set).
message_ref with_offset(const message& msg, std::uint64_t offset) {
  auto copy = std::make_shared<message>(msg);
  copy->confirm = nullptr;  // the publish's confirm waits for the commit, not for this copy
  copy->store_id = 0;
  try {
    copy->properties = amqp::with_header(msg.properties, offset_header, static_cast<std::int64_t>(offset));
  } catch (const amqp::decode_error&) {
    // unreadable properties cannot carry the header: delivered as published
  }
  return copy;
}

}  // namespace

stream::stream(queue& owner, storage_context* storage, stream_arguments args)
    : owner_(owner),
      storage_(storage),
      declared_(args),
      args_(args),
      log_(storage != nullptr && storage->durable != nullptr ? tail_messages : 0, tail_bytes),
      chunks_(cached_chunks, cache_bytes) {}

bool stream::persisted() const { return owner_.persisted(); }

void stream::append(const message_ref& msg, std::vector<storage::operation>& writes) {
  stream_log::appended a =
      log_.append(with_offset(*msg, log_.next_offset()), wall_clock_ms(), args_.max_segment_size_bytes);
  if (!persisted()) return;
  std::uint64_t store_id = owner_.store_id();
  std::uint64_t seq = seq_of(a.record.offset);
  // Every message in a stream is kept, whatever its delivery mode, as it
  // is delivered (its properties are not the publisher's); the writer packs
  // the appends of a commit into one chunk row.
  const message& kept = *a.record.msg;
  if (a.starts_segment) writes.emplace_back(storage::start_segment{store_id, seq});
  writes.emplace_back(storage::append_stream{
      store_id, seq, a.record.appended_at_ms,
      storage::message_content{0, a.record.msg, kept.exchange, kept.routing_key, kept.properties, kept.body}});
  // As RabbitMQ, retention is judged when a segment is started.
  if (a.starts_segment) apply_retention(writes);
}

void stream::apply_retention(std::vector<storage::operation>& writes) {
  if (log_.retain(args_, wall_clock_ms()) == 0) return;
  std::uint64_t first = log_.first_offset();
  writes.emplace_back(storage::purge_queue{owner_.store_id(), 0, seq_of(first)});
  chunks_.drop_before(first);
}

void stream::attach(consumer* c, std::string tag, const stream_consumer_options& options) {
  auto r = std::make_unique<stream_reader>();
  r->target = c;
  r->filter = options.filter;
  r->match_unfiltered = options.match_unfiltered;
  r->track_offsets = options.track_offsets;
  auto tracked = tracked_.find(tag);
  if (options.track_offsets && !options.start_given && tracked != tracked_.end()) {
    r->next = std::clamp(tracked->second + 1, log_.first_offset(), log_.next_offset());
  } else {
    r->next = log_.resolve(options.start);
    // A time within the stream: skip what its segment holds from before it.
    // (A later time starts at the next message, whatever its clock says.)
    if (options.start.from == stream_start::kind::timestamp_ms && r->next < log_.next_offset())
      r->not_before_ms = options.start.timestamp_ms;
  }
  r->tag = std::move(tag);
  if (r->track_offsets) ++tracking_readers_;
  readers_.push_back(std::move(r));
}

void stream::detach(consumer* c) {
  flush_offsets();
  std::erase_if(readers_, [&](const std::unique_ptr<stream_reader>& r) {
    if (r->target != c) return false;
    if (r->track_offsets) --tracking_readers_;
    return true;
  });
  release_cache_if_idle();
}

void stream::release_cache_if_idle() {
  if (readers_.empty() && browsing_.empty()) chunks_.clear();  // nobody reads: the store keeps it all
}

void stream::acked(const consumer* c, std::uint64_t offset) {
  if (tracking_readers_ == 0) return;
  for (auto& r : readers_) {
    if (r->target != c || !r->track_offsets) continue;
    if (!r->acked || offset > *r->acked) {
      r->acked = offset;
      r->tracked_dirty = true;
      offsets_dirty_ = true;
    }
    return;
  }
}

void stream::flush_offsets() {
  if (!offsets_dirty_) return;
  offsets_dirty_ = false;
  std::vector<storage::operation> writes;
  for (auto& r : readers_) {
    if (!r->tracked_dirty) continue;
    r->tracked_dirty = false;
    tracked_[r->tag] = *r->acked;
    writes.emplace_back(storage::put_stream_offset{owner_.store_id(), r->tag, *r->acked});
  }
  if (!writes.empty() && persisted()) storage_->durable->submit(std::move(writes), {});
}

void stream::dispatch() {
  // A delivery can end in a cancel or another dispatch; the outer loop goes on.
  if (dispatching_) return;
  dispatching_ = true;
  for (std::size_t i = 0; i < readers_.size(); ++i) serve(*readers_[i]);
  dispatching_ = false;
}

void stream::resume(const consumer* c) {
  if (dispatching_) return;
  dispatching_ = true;
  for (std::size_t i = 0; i < readers_.size(); ++i)
    if (readers_[i]->target == c) serve(*readers_[i]);
  dispatching_ = false;
}

void stream::serve(stream_reader& r) {
  while (r.target->can_take()) {
    // Behind retention: skip ahead to what is kept.
    r.next = std::max(r.next, log_.first_offset());
    if (r.next >= log_.next_offset()) return;  // at the end: the next append wakes it
    const stream_record* record = record_for(r);
    if (record == nullptr) {
      load_from(r.next);
      return;
    }
    ++r.next;
    if (!wanted(r, *record)) continue;
    r.target->deliver(owner_, queued_message{record->msg, seq_of(record->offset), false, false, 0, 0});
  }
}

bool stream::wanted(stream_reader& r, const stream_record& record) const {
  if (r.not_before_ms != 0) {
    if (record.appended_at_ms < r.not_before_ms) return false;
    r.not_before_ms = 0;  // append times never go back: every later message qualifies
  }
  if (r.filter.empty()) return true;
  std::optional<std::string> value = filter_value(*record.msg);
  if (!value) return r.match_unfiltered;
  return std::find(r.filter.begin(), r.filter.end(), *value) != r.filter.end();
}

const stream_record* stream::record_for(stream_reader& r) {
  // Most often the chunk this reader read last: no lookup.
  if (r.chunk && !r.chunk->empty()) {
    std::uint64_t first = r.chunk->front().offset;
    std::uint64_t into = r.next - first;
    if (r.next >= first && into < r.chunk->size()) return &(*r.chunk)[into];
    r.chunk.reset();
  }
  if (const stream_record* in_tail = log_.in_memory(r.next)) return in_tail;
  const stream_chunk* found = chunks_.find(r.next);
  if (found == nullptr) return nullptr;
  r.chunk = *found;
  std::uint64_t first = r.chunk->front().offset;
  // Entering a chunk: start reading the next one, so the reader need not wait for it.
  read_ahead(first + r.chunk->size());
  return &(*r.chunk)[r.next - first];
}

void stream::read_ahead(std::uint64_t offset) {
  if (offset >= log_.memory_first_offset() || chunks_.starts_at(offset)) return;
  load_from(offset);
}

void stream::load_from(std::uint64_t offset) {
  if (!persisted()) return;
  for (const auto& [first, count] : loading_)
    if (first <= offset && offset < first + count) return;  // that load will bring it
  loading_.emplace(offset, chunk_messages);
  auto into = std::make_shared<std::vector<storage::loaded_entry>>();
  storage::load_entries load{owner_.store_id(), seq_of(offset) - 1, chunk_messages, into};
  load.max_bytes = chunk_bytes;
  load.stream = true;
  storage_->durable->submit({std::move(load)}, [token = alive_.watch(), into, offset](bool ok) {
    if (*token == nullptr) return;
    stream& s = **token;
    s.loading_.erase(offset);
    if (ok) s.loaded(offset, *into);
    else log::error("stream '" + s.owner_.name() + "': reading from the store failed; will retry");
    s.dispatch();
    for (auto& b : std::exchange(s.browsing_, {})) s.step(b);
    s.release_cache_if_idle();
  });
}

void stream::loaded(std::uint64_t first, std::vector<storage::loaded_entry>& entries) {
  if (entries.empty()) {
    // The store lacks entries the log counts (a failed write): readers there
    // skip to what is in memory rather than ask again for ever.
    std::uint64_t resume = log_.memory_first_offset();
    log::warning("stream '" + owner_.name() + "': no stored messages from offset " + std::to_string(first) +
                 "; readers there go on from " + std::to_string(resume));
    auto skip = [&](stream_reader& r) {
      if (r.next >= first && r.next < resume) r.next = resume;
    };
    for (auto& r : readers_) skip(*r);
    for (auto& b : browsing_) skip(b->position);
    return;
  }
  // Retention may have run while the load was in flight: the chunk starts at the first row found.
  auto records = std::make_shared<std::vector<stream_record>>();
  records->reserve(entries.size());
  std::uint64_t start = offset_of(entries.front().entry.seq);
  for (storage::loaded_entry& e : entries) {
    if (offset_of(e.entry.seq) != start + records->size()) break;
    std::int64_t at = e.entry.appended_at_ms;
    records->push_back(stream_record{message_from_store(e), offset_of(e.entry.seq), at});
  }
  chunks_.insert(std::move(records), slowest_position());
}

std::uint64_t stream::slowest_position() const {
  std::uint64_t slowest = log_.next_offset();
  for (const auto& r : readers_) slowest = std::min(slowest, r->next);
  for (const auto& b : browsing_) slowest = std::min(slowest, b->position.next);
  return slowest;
}

void stream::browse(std::uint64_t from, std::int64_t not_before_ms, std::size_t limit, browsed done) {
  auto b = std::make_shared<browse_state>();
  b->position.next = from;
  b->position.not_before_ms = not_before_ms;
  b->limit = limit;
  b->done = std::move(done);
  step(b);
  release_cache_if_idle();
}

void stream::step(const std::shared_ptr<browse_state>& b) {
  stream_reader& r = b->position;
  while (b->out.size() < b->limit) {
    r.next = std::max(r.next, log_.first_offset());
    if (r.next >= log_.next_offset()) break;
    const stream_record* record = record_for(r);
    if (record == nullptr) {
      if (!persisted()) break;  // no store to read from: what memory lacks is gone
      load_from(r.next);
      browsing_.push_back(b);
      return;
    }
    ++r.next;
    if (wanted(r, *record)) b->out.push_back(*record);
  }
  finish(b);
}

void stream::finish(const std::shared_ptr<browse_state>& b) {
  browsed done = std::move(b->done);
  done(std::move(b->out));
}

stream::~stream() {
  for (auto& b : std::exchange(browsing_, {})) finish(b);
}

void stream::restore(const storage::queue_summary& stored) {
  std::vector<storage::segment_summary> segments = stored.segments;
  if (segments.empty() && stored.entry_count > 0) {
    // Entries without segment rows (a store damaged by hand): one segment for them all.
    log::warning("stream '" + owner_.name() + "': no segments stored for its " +
                 std::to_string(stored.entry_count) + " messages; counting them as one");
    segments.push_back(storage::segment_summary{stored.max_seq - stored.entry_count + 1, stored.entry_count,
                                                stored.body_bytes, 0, 0});
  }
  log_.restore(segments, stored.max_seq);
  for (const storage::tracked_offset& t : stored.tracked_offsets) tracked_[t.consumer_tag] = t.offset;
}

}  // namespace roost
