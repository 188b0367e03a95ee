#include "storage/stream_chunk_table.hpp"

#include <algorithm>

#include "storage/stream_chunk.hpp"

namespace roost::storage {

namespace {

// A chunk's bounds: big enough that a row carries thousands of small
// messages, small enough that a reader starting inside one reads little it
// does not want.
constexpr std::uint64_t chunk_max_messages = 4096;
constexpr std::size_t chunk_max_bytes = 1u << 20;

// The chunk holding seq ?2 + 1 (the last starting at or before it), and every one after it up to ?3.
constexpr const char* load_sql =
    "SELECT first_seq, data FROM stream_chunks WHERE queue_id = ?1 AND first_seq < ?3 AND first_seq >= "
    "coalesce((SELECT max(first_seq) FROM stream_chunks WHERE queue_id = ?1 AND first_seq <= ?2 + 1), 0) "
    "ORDER BY first_seq";

}  // namespace

stream_chunk_table::stream_chunk_table(sqlite::database& db)
    : insert_(db.prepare("INSERT INTO stream_chunks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")),
      remove_(db.prepare("DELETE FROM stream_chunks WHERE queue_id = ?1 AND first_seq >= ?2 "
                         "AND first_seq + count <= ?3")),
      load_(db.prepare(load_sql)) {}

void stream_chunk_table::append(const append_stream& op) {
  auto open = std::find_if(pending_.begin(), pending_.end(),
                           [&](const pending_chunk& c) { return c.queue_id == op.queue_id; });
  if (open != pending_.end() && (op.seq != open->head.first_seq + open->head.count ||
                                 open->head.count >= chunk_max_messages || open->data.size() >= chunk_max_bytes)) {
    write(*open);
    pending_.erase(open);
    open = pending_.end();
  }
  if (open == pending_.end()) {
    open = pending_.emplace(pending_.end());
    open->queue_id = op.queue_id;
    open->head.first_seq = op.seq;
    open->head.first_ms = op.appended_at_ms;
  }
  const message_content& m = op.content;
  append_to_chunk(open->data, chunk_message{op.appended_at_ms, m.exchange, m.routing_key, m.properties, m.body});
  ++open->head.count;
  open->head.body_bytes += m.body.size();
  open->head.last_ms = op.appended_at_ms;
}

void stream_chunk_table::flush() {
  for (const pending_chunk& c : pending_) write(c);
  pending_.clear();
}

void stream_chunk_table::write(const pending_chunk& c) {
  const chunk_header& h = c.head;
  insert_.bind(1, c.queue_id).bind(2, h.first_seq).bind(3, h.count).bind(4, h.body_bytes);
  insert_.bind(5, h.first_ms).bind(6, h.last_ms).bind_blob(7, c.data).run();
}

void stream_chunk_table::remove(std::uint64_t queue_id, std::uint64_t from_seq, std::uint64_t to_seq) {
  remove_.bind(1, queue_id).bind(2, from_seq).bind(3, to_seq).run();
}

void stream_chunk_table::load(const load_entries& op) {
  std::uint64_t bytes = 0;
  auto full = [&] {
    return op.into->size() >= op.limit || (op.max_bytes != 0 && bytes >= op.max_bytes);
  };
  load_.bind(1, op.queue_id).bind(2, op.after_seq).bind(3, op.before_seq);
  load_.each_row_while([&](sqlite::statement& row) {
    std::uint64_t seq = row.column_u64(0);
    chunk_reader chunk(row.column_view(1));
    try {
      for (auto m = chunk.next(); m && !full() && seq < op.before_seq; m = chunk.next(), ++seq) {
        if (seq <= op.after_seq) continue;
        loaded_entry& out = op.into->emplace_back();
        out.entry.queue_id = op.queue_id;
        out.entry.seq = seq;
        out.entry.appended_at_ms = m->appended_at_ms;
        out.exchange = m->exchange;
        out.routing_key = m->routing_key;
        out.properties = m->properties;
        out.body = m->body;
        bytes += m->body.size();
      }
    } catch (const bad_chunk&) {
      return false;  // what the chunk held before the damage is read; the reader learns of a gap
    }
    return !full();
  });
}

void move_stream_entries_to_chunks(sqlite::database& db) {
  constexpr const char* streams = "SELECT DISTINCT queue_id FROM stream_segments";
  stream_chunk_table chunks(db);
  auto starts = db.prepare("SELECT 1 FROM stream_segments WHERE queue_id = ?1 AND first_seq = ?2");
  auto entries = db.prepare(std::string("SELECT e.queue_id, e.seq, e.ready_at_ms, m.exchange, m.routing_key, "
                                        "m.properties, m.body FROM entries e JOIN messages m ON m.id = e.message_id "
                                        "WHERE e.queue_id IN (") + streams + ") ORDER BY e.queue_id, e.seq");
  entries.each_row([&](sqlite::statement& row) {
    append_stream op{row.column_u64(0), row.column_u64(1), row.column_int(2),
                     message_content{0, nullptr, row.column_view(3), row.column_view(4), row.column_view(5),
                                     row.column_view(6)}};
    bool segment_start = false;
    starts.bind(1, op.queue_id).bind(2, op.seq).each_row([&](sqlite::statement&) { segment_start = true; });
    if (segment_start) chunks.flush();
    chunks.append(op);
  });
  chunks.flush();
  db.exec(std::string("DELETE FROM messages WHERE id IN (SELECT message_id FROM entries WHERE queue_id IN (") +
          streams + "))");
  db.exec(std::string("DELETE FROM entries WHERE queue_id IN (") + streams + ")");
}

}  // namespace roost::storage
