// The startup reads. The per-queue summary is one walk over the entries
// primary key: entries are clustered by (queue_id, seq), so SQLite reads
// the b-tree once in order, with no sort and no temporary table, and the
// last row of each queue and lane holds its highest seq.
#include "storage/recovery.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "storage/stream_chunk.hpp"

namespace roost::storage {

namespace {

void read_exchanges(sqlite::database& db, recovered_state& out) {
  auto s = db.prepare("SELECT vhost, name, type, auto_delete, internal, arguments FROM exchanges");
  s.each_row([&](sqlite::statement& row) {
    out.exchanges.push_back(exchange_record{row.column_bytes(0), row.column_bytes(1), row.column_bytes(2),
                                            row.column_int(3) != 0, row.column_int(4) != 0, row.column_bytes(5)});
  });
}

// Access control and policies: small tables, read whole, in key order.
void read_access(sqlite::database& db, recovered_state& out) {
  auto vhosts = db.prepare(
      "SELECT name, description, tags, default_queue_type, max_connections, max_queues FROM vhosts ORDER BY name");
  vhosts.each_row([&](sqlite::statement& row) {
    out.vhosts.push_back(vhost_record{row.column_bytes(0), row.column_bytes(1), row.column_bytes(2),
                                      row.column_bytes(3), row.column_optional_int(4), row.column_optional_int(5)});
  });
  auto users = db.prepare(
      "SELECT name, password_hash, hashing_algorithm, tags, max_connections, max_channels FROM users ORDER BY name");
  users.each_row([&](sqlite::statement& row) {
    out.users.push_back(user_record{row.column_bytes(0), row.column_bytes(1), row.column_bytes(2),
                                    row.column_bytes(3), row.column_optional_int(4), row.column_optional_int(5)});
  });
  auto permissions =
      db.prepare("SELECT user, vhost, configure, write, read FROM permissions ORDER BY user, vhost");
  permissions.each_row([&](sqlite::statement& row) {
    out.permissions.push_back(permission_record{row.column_bytes(0), row.column_bytes(1), row.column_bytes(2),
                                                row.column_bytes(3), row.column_bytes(4)});
  });
  auto topic = db.prepare(
      "SELECT user, vhost, exchange, write, read FROM topic_permissions ORDER BY user, vhost, exchange");
  topic.each_row([&](sqlite::statement& row) {
    out.topic_permissions.push_back(topic_permission_record{row.column_bytes(0), row.column_bytes(1),
                                                            row.column_bytes(2), row.column_bytes(3),
                                                            row.column_bytes(4)});
  });
  auto policies = db.prepare(
      "SELECT vhost, name, operator_policy, pattern, apply_to, priority, definition FROM policies "
      "ORDER BY vhost, name, operator_policy");
  policies.each_row([&](sqlite::statement& row) {
    out.policies.push_back(policy_record{row.column_bytes(0), row.column_bytes(1), row.column_int(2) != 0,
                                         row.column_bytes(3), row.column_bytes(4), row.column_int(5),
                                         row.column_bytes(6)});
  });
}

void read_bindings(sqlite::database& db, recovered_state& out) {
  auto s = db.prepare("SELECT vhost, source, to_exchange, destination, routing_key, arguments FROM bindings");
  s.each_row([&](sqlite::statement& row) {
    out.bindings.push_back(binding_record{row.column_bytes(0), row.column_bytes(1), row.column_int(2) != 0,
                                          row.column_bytes(3), row.column_bytes(4), row.column_bytes(5)});
  });
}

using queue_index = std::unordered_map<std::uint64_t, std::size_t>;  // queue id -> position in out.queues

// Follows a walk over rows ordered by queue id to the summary of each row's
// queue (null: a queue that no longer exists; its rows are unreachable).
class queue_walk {
 public:
  queue_walk(const queue_index& index, recovered_state& out) : index_(index), out_(out) {}
  // The row's queue's summary; `entered` says whether the walk just reached it.
  queue_summary* at(std::uint64_t queue_id, bool& entered) {
    entered = queue_id != current_;
    if (entered) {
      current_ = queue_id;
      auto found = index_.find(queue_id);
      q_ = found == index_.end() ? nullptr : &out_.queues[found->second];
    }
    return q_;
  }

 private:
  const queue_index& index_;
  recovered_state& out_;
  std::optional<std::uint64_t> current_;
  queue_summary* q_ = nullptr;
};

// A stream's chunk, in seq order, counted in the segment it starts in
// (`segment` follows the walk). Chunks before the first segment start
// (none are written so) count in the first.
void add_to_segment(std::vector<segment_summary>& segments, std::size_t& segment, const chunk_header& run) {
  while (segment + 1 < segments.size() && segments[segment + 1].first_seq <= run.first_seq) ++segment;
  segment_summary& s = segments[segment];
  if (s.entry_count == 0) s.first_appended_at_ms = run.first_ms;
  s.entry_count += run.count;
  s.body_bytes += run.body_bytes;
  s.last_appended_at_ms = run.last_ms;
}

// A stream's chunks: its count, highest seq, bytes and segments.
void read_stream_chunks(sqlite::database& db, const queue_index& index, recovered_state& out) {
  auto chunks = db.prepare(
      "SELECT queue_id, first_seq, count, body_bytes, first_ms, last_ms FROM stream_chunks ORDER BY queue_id, first_seq");
  queue_walk walk(index, out);
  std::size_t segment = 0;  // the segment of its stream the walk is in
  chunks.each_row([&](sqlite::statement& row) {
    bool entered = false;
    queue_summary* q = walk.at(row.column_u64(0), entered);
    if (entered) segment = 0;
    chunk_header run{row.column_u64(1), row.column_u64(2), row.column_u64(3), row.column_int(4), row.column_int(5)};
    if (q == nullptr || run.count == 0) return;
    q->entry_count += run.count;
    q->max_seq = std::max(q->max_seq, run.first_seq + run.count - 1);
    q->body_bytes += run.body_bytes;
    if (!q->segments.empty()) add_to_segment(q->segments, segment, run);
  });
}

void read_queues(sqlite::database& db, recovered_state& out) {
  queue_index index;
  auto queues = db.prepare("SELECT id, vhost, name, auto_delete, arguments FROM queues ORDER BY id");
  queues.each_row([&](sqlite::statement& row) {
    queue_summary& q = out.queues.emplace_back();
    q.queue = queue_record{row.column_u64(0), row.column_bytes(1), row.column_bytes(2), row.column_int(3) != 0,
                           row.column_bytes(4)};
    index.emplace(q.queue.id, out.queues.size() - 1);
  });
  // A stream's segment starts and tracked offsets, before the walk that sums its segments.
  auto segments = db.prepare("SELECT queue_id, first_seq FROM stream_segments ORDER BY queue_id, first_seq");
  segments.each_row([&](sqlite::statement& row) {
    if (auto at = index.find(row.column_u64(0)); at != index.end())
      out.queues[at->second].segments.push_back(segment_summary{row.column_u64(1)});
  });
  auto offsets = db.prepare("SELECT queue_id, consumer_tag, offset FROM stream_offsets ORDER BY queue_id, consumer_tag");
  offsets.each_row([&](sqlite::statement& row) {
    if (auto at = index.find(row.column_u64(0)); at != index.end())
      out.queues[at->second].tracked_offsets.push_back(tracked_offset{row.column_bytes(1), row.column_u64(2)});
  });
  // One ordered walk over every entry (the primary key order) with its
  // body's length (length() does not read a blob's content).
  auto entries = db.prepare(
      "SELECT e.queue_id, e.seq, e.expires_at_ms, length(m.body) FROM entries e "
      "JOIN messages m ON m.id = e.message_id ORDER BY e.queue_id, e.seq");
  queue_walk walk(index, out);
  entries.each_row([&](sqlite::statement& row) {
    bool entered = false;
    queue_summary* q = walk.at(row.column_u64(0), entered);
    if (q == nullptr) return;
    std::uint64_t seq = row.column_u64(1);
    std::int64_t expires_at_ms = row.column_int(2);
    std::uint64_t size = row.column_u64(3);
    if (q->lanes.empty() || q->lanes.back().lane != lane_of(seq)) q->lanes.push_back(lane_summary{lane_of(seq)});
    lane_summary& lane = q->lanes.back();
    ++lane.entry_count;
    lane.max_seq = seq;
    ++q->entry_count;
    q->max_seq = seq;
    q->body_bytes += size;
    if (expires_at_ms != 0) q->expiring.push_back(expiring_entry{seq, expires_at_ms, size});
  });
  read_stream_chunks(db, index, out);
}

// Every delayed message with its content, in due order. Targets come from
// a second ordered scan merged by message id, not one query per message.
void read_delayed(sqlite::database& db, recovered_state& out) {
  std::unordered_map<std::uint64_t, std::size_t> index;  // message id -> position in out.delayed
  auto delayed = db.prepare(
      "SELECT d.message_id, d.due_at_ms, m.exchange, m.routing_key, m.properties, m.body "
      "FROM delayed d JOIN messages m ON m.id = d.message_id ORDER BY d.due_at_ms, d.message_id");
  delayed.each_row([&](sqlite::statement& row) {
    loaded_delayed& d = out.delayed.emplace_back();
    d.record.message_id = row.column_u64(0);
    d.record.due_at_ms = row.column_int(1);
    d.exchange = row.column_bytes(2);
    d.routing_key = row.column_bytes(3);
    d.properties = row.column_bytes(4);
    d.body = row.column_bytes(5);
    index.emplace(d.record.message_id, out.delayed.size() - 1);
  });
  auto targets = db.prepare("SELECT message_id, queue_id FROM delayed_targets");
  targets.each_row([&](sqlite::statement& row) {
    auto at = index.find(row.column_u64(0));
    if (at != index.end()) out.delayed[at->second].record.queue_ids.push_back(row.column_u64(1));
  });
}

void read_position(sqlite::database& db, recovered_state& out) {
  auto position = db.prepare("SELECT epoch, seq FROM replication_position");
  position.each_row([&](sqlite::statement& row) { out.position = {row.column_u64(0), row.column_u64(1)}; });
  auto epochs = db.prepare("SELECT epoch, first_seq FROM replication_epochs ORDER BY epoch");
  epochs.each_row([&](sqlite::statement& row) { out.epoch_starts.push_back({row.column_u64(0), row.column_u64(1)}); });
}

}  // namespace

recovered_state read_recovered_state(sqlite::database& db) {
  recovered_state out;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Transient messages were only on disk because they were paged out of
    // memory; like RabbitMQ, a restart does not bring them back.
    db.exec("DELETE FROM entries WHERE message_id IN (SELECT id FROM messages WHERE persistent = 0)");
    db.exec("DELETE FROM messages WHERE persistent = 0");
    read_access(db, out);
    read_exchanges(db, out);
    read_queues(db, out);
    read_bindings(db, out);
    read_delayed(db, out);
    read_position(db, out);
    out.max_message_id = static_cast<std::uint64_t>(db.query_int("SELECT coalesce(max(id), 0) FROM messages"));
    out.max_queue_id = static_cast<std::uint64_t>(db.query_int("SELECT coalesce(max(id), 0) FROM queues"));
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  db.exec("COMMIT");
  return out;
}

}  // namespace roost::storage
