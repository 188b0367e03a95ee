// The SQL of every store operation. Orphaned messages are removed with
// set-based statements that use the entries(message_id) index, so purging
// or deleting a deep queue is a few statements, not one per message.
// Access control and policies are at the end: plain rows keyed by name,
// with the two cascades (delete_user, delete_vhost) done in SQL.
#include "storage/operations.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace roost::storage {

namespace {

// Everything that can reference a queue by name, when the queue goes.
constexpr const char* delete_queue_bindings_sql =
    "DELETE FROM bindings WHERE (vhost, to_exchange, destination) = "
    "(SELECT vhost, 0, name FROM queues WHERE id = ?1)";

// Messages of this queue that no other queue holds; run before its entries go.
// (Entries in the seq range [?2, ?3): a purge keeps the unacked entries
// below a lane's paged range, and the other lanes.)
constexpr const char* delete_queue_orphans_sql =
    "DELETE FROM messages WHERE id IN (SELECT message_id FROM entries WHERE queue_id = ?1 AND seq >= ?2 AND seq < ?3) "
    "AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.message_id = messages.id "
    "AND (e.queue_id <> ?1 OR e.seq < ?2 OR e.seq >= ?3))";

constexpr const char* load_entries_sql =
    "SELECT e.seq, e.message_id, e.delivery_count, e.delivered, e.expires_at_ms, e.ready_at_ms, "
    "m.exchange, m.routing_key, m.properties, m.body, m.persistent "
    "FROM entries e JOIN messages m ON m.id = e.message_id "
    "WHERE e.queue_id = ?1 AND e.seq > ?2 AND e.seq < ?4 ORDER BY e.seq LIMIT ?3";

// The seq of the entry `?4` entries into the range (load_entries.skip):
// walks the primary key without reading any message.
constexpr const char* skip_entries_sql =
    "SELECT seq FROM entries WHERE queue_id = ?1 AND seq > ?2 AND seq < ?3 ORDER BY seq LIMIT 1 OFFSET ?4";

// delete_vhost, after its queues (which go through delete_queue): every
// other row of the vhost, each kind in one statement over an index whose
// key starts with the vhost.
constexpr const char* delete_vhost_sql[] = {
    "DELETE FROM bindings WHERE vhost = ?1",
    "DELETE FROM exchanges WHERE vhost = ?1",
    "DELETE FROM permissions WHERE vhost = ?1",
    "DELETE FROM topic_permissions WHERE vhost = ?1",
    "DELETE FROM policies WHERE vhost = ?1",
    "DELETE FROM vhosts WHERE name = ?1",
};

}  // namespace

operation_executor::operation_executor(sqlite::database& db)
    : put_exchange_(db.prepare("INSERT OR REPLACE INTO exchanges VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      delete_exchange_(db.prepare("DELETE FROM exchanges WHERE vhost = ?1 AND name = ?2")),
      // Two statements, not one with OR: each then uses its own index (the
      // primary key for sources, bindings_destination for destinations).
      delete_source_bindings_(db.prepare("DELETE FROM bindings WHERE vhost = ?1 AND source = ?2")),
      delete_destination_bindings_(
          db.prepare("DELETE FROM bindings WHERE vhost = ?1 AND to_exchange = 1 AND destination = ?2")),
      put_queue_(db.prepare("INSERT OR REPLACE INTO queues VALUES (?1, ?2, ?3, ?4, ?5)")),
      same_name_queues_(db.prepare("SELECT id FROM queues WHERE vhost = ?1 AND name = ?2 AND id <> ?3")),
      delete_queue_(db.prepare("DELETE FROM queues WHERE id = ?1")),
      delete_queue_bindings_(db.prepare(delete_queue_bindings_sql)),
      put_binding_(db.prepare("INSERT OR IGNORE INTO bindings VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      delete_binding_(db.prepare("DELETE FROM bindings WHERE vhost = ?1 AND source = ?2 AND to_exchange = ?3 "
                                 "AND destination = ?4 AND routing_key = ?5 AND arguments = ?6")),
      insert_message_(db.prepare("INSERT INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      insert_entry_(db.prepare("INSERT INTO entries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")),
      remove_entry_(db.prepare("DELETE FROM entries WHERE queue_id = ?1 AND seq = ?2 RETURNING message_id")),
      delete_orphan_message_(db.prepare(
          "DELETE FROM messages WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM entries WHERE message_id = ?1)")),
      update_entry_(db.prepare("UPDATE entries SET delivery_count = ?3, delivered = ?4, expires_at_ms = ?5, "
                               "ready_at_ms = ?6 WHERE queue_id = ?1 AND seq = ?2")),
      delete_queue_orphans_(db.prepare(delete_queue_orphans_sql)),
      delete_queue_entries_(db.prepare("DELETE FROM entries WHERE queue_id = ?1 AND seq >= ?2 AND seq < ?3")),
      load_entries_(db.prepare(load_entries_sql)),
      skip_entries_(db.prepare(skip_entries_sql)),
      insert_delayed_(db.prepare("INSERT INTO delayed VALUES (?1, ?2)")),
      insert_delayed_target_(db.prepare("INSERT OR IGNORE INTO delayed_targets VALUES (?1, ?2)")),
      remove_delayed_(db.prepare("DELETE FROM delayed WHERE message_id = ?1")),
      remove_delayed_targets_(db.prepare("DELETE FROM delayed_targets WHERE message_id = ?1")),
      delete_queue_delayed_targets_(db.prepare("DELETE FROM delayed_targets WHERE queue_id = ?1")),
      put_user_(db.prepare("INSERT OR REPLACE INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      delete_user_(db.prepare("DELETE FROM users WHERE name = ?1")),
      delete_user_permissions_(db.prepare("DELETE FROM permissions WHERE user = ?1")),
      delete_user_topic_permissions_(db.prepare("DELETE FROM topic_permissions WHERE user = ?1")),
      put_vhost_(db.prepare("INSERT OR REPLACE INTO vhosts VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
      vhost_queues_(db.prepare("SELECT id FROM queues WHERE vhost = ?1")),
      put_permission_(db.prepare("INSERT OR REPLACE INTO permissions VALUES (?1, ?2, ?3, ?4, ?5)")),
      delete_permission_(db.prepare("DELETE FROM permissions WHERE user = ?1 AND vhost = ?2")),
      put_topic_permission_(db.prepare("INSERT OR REPLACE INTO topic_permissions VALUES (?1, ?2, ?3, ?4, ?5)")),
      delete_topic_permission_(
          db.prepare("DELETE FROM topic_permissions WHERE user = ?1 AND vhost = ?2 AND exchange = ?3")),
      put_policy_(db.prepare("INSERT OR REPLACE INTO policies VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")),
      delete_policy_(db.prepare("DELETE FROM policies WHERE vhost = ?1 AND name = ?2 AND operator_policy = ?3")),
      record_epoch_(db.prepare("INSERT INTO replication_epochs VALUES (?1, ?2) ON CONFLICT (epoch) DO NOTHING")),
      record_position_(db.prepare("INSERT INTO replication_position VALUES (0, ?1, ?2) "
                                  "ON CONFLICT (id) DO UPDATE SET epoch = ?1, seq = ?2")),
      start_segment_(db.prepare("INSERT OR REPLACE INTO stream_segments VALUES (?1, ?2)")),
      delete_segments_(
          db.prepare("DELETE FROM stream_segments WHERE queue_id = ?1 AND first_seq >= ?2 AND first_seq < ?3")),
      put_stream_offset_(db.prepare("INSERT OR REPLACE INTO stream_offsets VALUES (?1, ?2, ?3)")),
      delete_stream_offsets_(db.prepare("DELETE FROM stream_offsets WHERE queue_id = ?1")),
      chunks_(db) {
  for (const char* sql : delete_vhost_sql) delete_vhost_rows_.push_back(db.prepare(sql));
}

void operation_executor::apply_batch(const std::vector<operation*>& ops) {
  chunks_.discard();  // left by a batch that failed
  for (operation* op : ops)
    if (op != nullptr) apply(*op);
  chunks_.flush();
}

void operation_executor::apply(operation& op) {
  // Pending chunks stay pending across what never touches stream_chunks;
  // anything else may read or remove its rows, so they are written first.
  bool leaves_chunks = std::holds_alternative<append_stream>(op) || std::holds_alternative<insert_message>(op) ||
                       std::holds_alternative<insert_entry>(op) || std::holds_alternative<remove_entry>(op) ||
                       std::holds_alternative<update_entry>(op) || std::holds_alternative<put_stream_offset>(op) ||
                       std::holds_alternative<record_position>(op);
  if (!leaves_chunks) chunks_.flush();
  std::visit([this](const auto& o) { run(o); }, op);
}

void operation_executor::run(const put_exchange& op) {
  const exchange_record& x = op.exchange;
  put_exchange_.bind_text(1, x.vhost).bind_text(2, x.name).bind_text(3, x.type);
  put_exchange_.bind(4, std::int64_t{x.auto_delete}).bind(5, std::int64_t{x.internal}).bind_blob(6, x.arguments);
  put_exchange_.run();
}

void operation_executor::run(const delete_exchange& op) {
  delete_exchange_.bind_text(1, op.vhost).bind_text(2, op.name).run();
  delete_source_bindings_.bind_text(1, op.vhost).bind_text(2, op.name).run();
  delete_destination_bindings_.bind_text(1, op.vhost).bind_text(2, op.name).run();
}

void operation_executor::run(const put_queue& op) {
  const queue_record& q = op.queue;
  // A name maps to one queue. If an older queue of this name is still on
  // disk (its delete_queue was in a batch that failed), it goes now, with
  // its entries, rather than failing this and every later declare.
  std::vector<std::uint64_t> stale;
  same_name_queues_.bind_text(1, q.vhost).bind_text(2, q.name).bind(3, q.id);
  same_name_queues_.each_row([&](sqlite::statement& s) { stale.push_back(s.column_u64(0)); });
  for (std::uint64_t id : stale) run(delete_queue{id});
  put_queue_.bind(1, q.id).bind_text(2, q.vhost).bind_text(3, q.name);
  put_queue_.bind(4, std::int64_t{q.auto_delete}).bind_blob(5, q.arguments).run();
}

void operation_executor::run(const delete_queue& op) {
  remove_entries(op.queue_id, 0, no_seq_limit);
  delete_stream_offsets_.bind(1, op.queue_id).run();
  delete_queue_delayed_targets_.bind(1, op.queue_id).run();
  delete_queue_bindings_.bind(1, op.queue_id).run();
  delete_queue_.bind(1, op.queue_id).run();
}

void operation_executor::bind_binding(sqlite::statement& s, const binding_record& b) {
  s.bind_text(1, b.vhost).bind_text(2, b.source).bind(3, std::int64_t{b.to_exchange});
  s.bind_text(4, b.destination).bind_text(5, b.routing_key).bind_blob(6, b.arguments);
}

void operation_executor::run(const put_binding& op) {
  bind_binding(put_binding_, op.binding);
  put_binding_.run();
}

void operation_executor::run(const delete_binding& op) {
  bind_binding(delete_binding_, op.binding);
  delete_binding_.run();
}

void operation_executor::run(const insert_message& op) {
  const message_content& m = op.content;
  insert_message_.bind(1, m.id).bind_text(2, m.exchange).bind_text(3, m.routing_key);
  insert_message_.bind_blob(4, m.properties).bind_blob(5, m.body).bind(6, std::int64_t{m.persistent}).run();
}

void operation_executor::run(const insert_entry& op) {
  const entry_record& e = op.entry;
  insert_entry_.bind(1, e.queue_id).bind(2, e.seq).bind(3, e.message_id).bind(4, std::int64_t{e.delivery_count});
  insert_entry_.bind(5, std::int64_t{e.delivered}).bind(6, e.expires_at_ms).bind(7, e.appended_at_ms).run();
}

void operation_executor::run(const remove_entry& op) {
  std::optional<std::uint64_t> message_id;
  remove_entry_.bind(1, op.queue_id).bind(2, op.seq);
  remove_entry_.each_row([&](sqlite::statement& s) { message_id = s.column_u64(0); });
  if (message_id) delete_orphan_message_.bind(1, *message_id).run();
}

void operation_executor::run(const update_entry& op) {
  const entry_record& e = op.entry;
  update_entry_.bind(1, e.queue_id).bind(2, e.seq).bind(3, std::int64_t{e.delivery_count});
  update_entry_.bind(4, std::int64_t{e.delivered}).bind(5, e.expires_at_ms).bind(6, e.appended_at_ms).run();
}

void operation_executor::run(const insert_delayed& op) {
  const delayed_record& d = op.delayed;
  insert_delayed_.bind(1, d.message_id).bind(2, d.due_at_ms).run();
  for (std::uint64_t queue_id : d.queue_ids) insert_delayed_target_.bind(1, d.message_id).bind(2, queue_id).run();
}

void operation_executor::run(const remove_delayed& op) {
  remove_delayed_.bind(1, op.message_id).run();
  remove_delayed_targets_.bind(1, op.message_id).run();
  delete_orphan_message_.bind(1, op.message_id).run();
}

void operation_executor::run(const purge_queue& op) { remove_entries(op.queue_id, op.from_seq, op.to_seq); }

void operation_executor::remove_entries(std::uint64_t queue_id, std::uint64_t from_seq, std::uint64_t to_seq) {
  delete_queue_orphans_.bind(1, queue_id).bind(2, from_seq).bind(3, to_seq).run();
  delete_queue_entries_.bind(1, queue_id).bind(2, from_seq).bind(3, to_seq).run();
  delete_segments_.bind(1, queue_id).bind(2, from_seq).bind(3, to_seq).run();
  chunks_.remove(queue_id, from_seq, to_seq);
}

void operation_executor::run(const load_entries& op) {
  if (!op.into) return;
  op.into->clear();
  if (op.stream) {
    chunks_.load(op);
    return;
  }
  // LIMIT takes a signed 64-bit count; anything larger means "no limit" (-1).
  auto limit = op.limit > static_cast<std::size_t>(INT64_MAX) ? std::int64_t{-1} : static_cast<std::int64_t>(op.limit);
  std::uint64_t after_seq = op.after_seq;
  if (op.skip > 0) {
    std::optional<std::uint64_t> first;
    auto skip = static_cast<std::int64_t>(std::min<std::uint64_t>(op.skip, INT64_MAX));
    skip_entries_.bind(1, op.queue_id).bind(2, op.after_seq).bind(3, op.before_seq).bind(4, skip);
    skip_entries_.each_row([&](sqlite::statement& s) { first = s.column_u64(0); });
    if (!first) return;  // fewer entries than that
    after_seq = *first - 1;
  }
  load_entries_.bind(1, op.queue_id).bind(2, after_seq).bind(3, limit).bind(4, op.before_seq);
  std::uint64_t bytes = 0;
  load_entries_.each_row([&](sqlite::statement& s) {
    if (op.max_bytes != 0 && bytes >= op.max_bytes) return;  // past the budget: the rest is skipped, not read
    loaded_entry& out = op.into->emplace_back();
    out.entry = entry_record{op.queue_id,
                             s.column_u64(0),
                             s.column_u64(1),
                             static_cast<std::uint32_t>(s.column_int(2)),
                             s.column_int(3) != 0,
                             s.column_int(4),
                             s.column_int(5)};
    out.exchange = s.column_bytes(6);
    out.routing_key = s.column_bytes(7);
    out.properties = s.column_bytes(8);
    out.body = s.column_bytes(9);
    out.persistent = s.column_int(10) != 0;
    bytes += out.body.size();
  });
}

// ---- access control and policies ----

void operation_executor::run(const put_user& op) {
  const user_record& u = op.user;
  put_user_.bind_text(1, u.name).bind_text(2, u.password_hash).bind_text(3, u.hashing_algorithm);
  put_user_.bind_text(4, u.tags).bind(5, u.max_connections).bind(6, u.max_channels).run();
}

void operation_executor::run(const delete_user& op) {
  delete_user_.bind_text(1, op.name).run();
  delete_user_permissions_.bind_text(1, op.name).run();
  delete_user_topic_permissions_.bind_text(1, op.name).run();
}

void operation_executor::run(const put_vhost& op) {
  const vhost_record& v = op.vhost;
  put_vhost_.bind_text(1, v.name).bind_text(2, v.description).bind_text(3, v.tags);
  put_vhost_.bind_text(4, v.default_queue_type).bind(5, v.max_connections).bind(6, v.max_queues).run();
}

void operation_executor::run(const delete_vhost& op) {
  // Queues go through delete_queue, so a vhost's queues lose their entries,
  // delayed targets and orphaned messages by exactly the SQL a single
  // queue's deletion uses: a few index-range statements per queue, whatever
  // its depth. A message also held by a queue of another vhost stays.
  std::vector<std::uint64_t> queues;
  vhost_queues_.bind_text(1, op.name);
  vhost_queues_.each_row([&](sqlite::statement& s) { queues.push_back(s.column_u64(0)); });
  for (std::uint64_t id : queues) run(delete_queue{id});
  for (sqlite::statement& rows : delete_vhost_rows_) rows.bind_text(1, op.name).run();
}

void operation_executor::run(const put_permission& op) {
  const permission_record& p = op.permission;
  put_permission_.bind_text(1, p.user).bind_text(2, p.vhost).bind_text(3, p.configure);
  put_permission_.bind_text(4, p.write).bind_text(5, p.read).run();
}

void operation_executor::run(const delete_permission& op) {
  delete_permission_.bind_text(1, op.user).bind_text(2, op.vhost).run();
}

void operation_executor::run(const put_topic_permission& op) {
  const topic_permission_record& p = op.permission;
  put_topic_permission_.bind_text(1, p.user).bind_text(2, p.vhost).bind_text(3, p.exchange);
  put_topic_permission_.bind_text(4, p.write).bind_text(5, p.read).run();
}

void operation_executor::run(const delete_topic_permission& op) {
  delete_topic_permission_.bind_text(1, op.user).bind_text(2, op.vhost).bind_text(3, op.exchange).run();
}

void operation_executor::run(const put_policy& op) {
  const policy_record& p = op.policy;
  put_policy_.bind_text(1, p.vhost).bind_text(2, p.name).bind(3, std::int64_t{p.operator_policy});
  put_policy_.bind_text(4, p.pattern).bind_text(5, p.apply_to).bind(6, p.priority).bind_blob(7, p.definition).run();
}

void operation_executor::run(const delete_policy& op) {
  delete_policy_.bind_text(1, op.vhost).bind_text(2, op.name).bind(3, std::int64_t{op.operator_policy}).run();
}

// ---- a cluster's replication position ----

void operation_executor::run(const record_position& op) {
  record_epoch_.bind(1, op.position.epoch).bind(2, op.position.seq).run();
  record_position_.bind(1, op.position.epoch).bind(2, op.position.seq).run();
}

// ---- streams ----

void operation_executor::run(const start_segment& op) { start_segment_.bind(1, op.queue_id).bind(2, op.first_seq).run(); }

void operation_executor::run(const put_stream_offset& op) {
  put_stream_offset_.bind(1, op.queue_id).bind_text(2, op.consumer_tag).bind(3, op.offset).run();
}

}  // namespace roost::storage
