// Roost's tables and the migration list. Step 1 creates everything the
// first durable release needs, including placeholder vhosts, users and
// permissions tables that no release wrote; step 2 adds delayed messages;
// step 3 gives the placeholders their real shape and adds topic
// permissions and policies; step 4 adds a cluster's replication position;
// step 5 adds streams' segments and tracked offsets; step 6 moves streams'
// messages into chunks.
#include "storage/schema.hpp"

#include "storage/stream_chunk_table.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <vector>

namespace roost::storage {

namespace {

// Names and routing keys are TEXT compared byte-wise (BINARY collation), so
// AMQP short strings round-trip exactly; argument tables, properties and
// bodies are opaque BLOBs. Entries are WITHOUT ROWID so the (queue_id, seq)
// key is the table itself: one queue's entries are contiguous, which makes
// paging in order and the per-queue aggregate of recovery a range scan.
constexpr const char* step_1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE vhosts (name TEXT PRIMARY KEY, metadata BLOB NOT NULL DEFAULT x'') WITHOUT ROWID;
CREATE TABLE users (
  name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, tags TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE permissions (
  user TEXT NOT NULL, vhost TEXT NOT NULL,
  configure TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost)
) WITHOUT ROWID;
CREATE TABLE exchanges (
  vhost TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
  auto_delete INTEGER NOT NULL, internal INTEGER NOT NULL, arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, name)
) WITHOUT ROWID;
CREATE TABLE queues (
  id INTEGER PRIMARY KEY, vhost TEXT NOT NULL, name TEXT NOT NULL,
  auto_delete INTEGER NOT NULL, arguments BLOB NOT NULL,
  UNIQUE (vhost, name)
);
CREATE TABLE bindings (
  vhost TEXT NOT NULL, source TEXT NOT NULL, to_exchange INTEGER NOT NULL, destination TEXT NOT NULL,
  routing_key TEXT NOT NULL, arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, source, to_exchange, destination, routing_key, arguments)
) WITHOUT ROWID;
CREATE INDEX bindings_destination ON bindings (vhost, to_exchange, destination);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY, exchange TEXT NOT NULL, routing_key TEXT NOT NULL,
  properties BLOB NOT NULL, body BLOB NOT NULL,
  persistent INTEGER NOT NULL  -- 0: a transient message paged out of memory; dropped at recovery
);
CREATE TABLE entries (
  queue_id INTEGER NOT NULL, seq INTEGER NOT NULL, message_id INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL, delivered INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL, ready_at_ms INTEGER NOT NULL,
  PRIMARY KEY (queue_id, seq)
) WITHOUT ROWID;
CREATE INDEX entries_message ON entries (message_id);
-- Finds transient paged messages at recovery without reading every body.
CREATE INDEX messages_transient ON messages (id) WHERE persistent = 0;
)sql";

// Delayed messages (x-delayed-message exchanges): the message row is in
// messages as usual; delayed holds when it is due, delayed_targets the
// queues its publish was routed to. Due messages are found in order through
// delayed_due; a deleted queue's targets through delayed_targets_queue.
constexpr const char* step_2 = R"sql(
CREATE TABLE delayed (message_id INTEGER PRIMARY KEY, due_at_ms INTEGER NOT NULL);
CREATE INDEX delayed_due ON delayed (due_at_ms);
CREATE TABLE delayed_targets (
  message_id INTEGER NOT NULL, queue_id INTEGER NOT NULL,
  PRIMARY KEY (message_id, queue_id)
) WITHOUT ROWID;
CREATE INDEX delayed_targets_queue ON delayed_targets (queue_id);
)sql";

// Access control and policies. Step 1's vhosts and users tables have never
// been written by any release, so they are empty in every file: they are
// dropped and recreated in the shape a fresh file should have, rather than
// altered (ALTER TABLE ADD COLUMN would keep vhosts' unused metadata column
// forever and need a DEFAULT on every new NOT NULL column). Step 1's
// permissions table already has the right shape and stays; it and
// topic_permissions get a vhost index for delete_vhost (their primary keys
// start with the user, which serves delete_user). A NULL limit is no limit.
constexpr const char* step_3 = R"sql(
DROP TABLE vhosts;
CREATE TABLE vhosts (
  name TEXT PRIMARY KEY, description TEXT NOT NULL, tags TEXT NOT NULL, default_queue_type TEXT NOT NULL,
  max_connections INTEGER, max_queues INTEGER
) WITHOUT ROWID;
DROP TABLE users;
CREATE TABLE users (
  name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, hashing_algorithm TEXT NOT NULL, tags TEXT NOT NULL,
  max_connections INTEGER, max_channels INTEGER
) WITHOUT ROWID;
CREATE INDEX permissions_vhost ON permissions (vhost);
CREATE TABLE topic_permissions (
  user TEXT NOT NULL, vhost TEXT NOT NULL, exchange TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost, exchange)
) WITHOUT ROWID;
CREATE INDEX topic_permissions_vhost ON topic_permissions (vhost);
CREATE TABLE policies (
  vhost TEXT NOT NULL, name TEXT NOT NULL,
  operator_policy INTEGER NOT NULL,  -- 1: an operator policy, kept apart from a policy of the same name
  pattern TEXT NOT NULL, apply_to TEXT NOT NULL, priority INTEGER NOT NULL, definition BLOB NOT NULL,
  PRIMARY KEY (vhost, name, operator_policy)
) WITHOUT ROWID;
)sql";

// Where the store stands in a cluster's history (storage/batch_codec.hpp):
// the last batch applied, and the seq at which each epoch's batches began,
// which tells a consistent history from a diverged one. Empty outside a cluster.
constexpr const char* step_4 = R"sql(
CREATE TABLE replication_position (
  id INTEGER PRIMARY KEY CHECK (id = 0), epoch INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE replication_epochs (epoch INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL);
)sql";

// Streams: where each segment of a stream begins (its entries are the
// stream's messages, their seq the offset + 1, ready_at_ms when each was
// appended), and the offsets consumers with server-side tracking acked.
constexpr const char* step_5 = R"sql(
CREATE TABLE stream_segments (queue_id INTEGER NOT NULL, first_seq INTEGER NOT NULL,
  PRIMARY KEY (queue_id, first_seq)) WITHOUT ROWID;
CREATE TABLE stream_offsets (queue_id INTEGER NOT NULL, consumer_tag TEXT NOT NULL, offset INTEGER NOT NULL,
  PRIMARY KEY (queue_id, consumer_tag)) WITHOUT ROWID;
)sql";

// Streams' messages in chunks, one row per run of appends (stream_chunk.hpp
// for the blob); the step moves what step 5's streams kept as entries.
constexpr const char* step_6 = R"sql(
CREATE TABLE stream_chunks (
  queue_id INTEGER NOT NULL, first_seq INTEGER NOT NULL, count INTEGER NOT NULL, body_bytes INTEGER NOT NULL,
  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (queue_id, first_seq));
)sql";

// Append new steps here; never edit one that has shipped.
constexpr std::array migrations{step_1, step_2, step_3, step_4, step_5, step_6};

std::string hex(std::int64_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

// An SQL identifier in double quotes.
std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// What the file holds that would be lost if we took it over.
std::optional<std::string> foreign_or_newer(sqlite::database& db) {
  std::int64_t app_id = db.query_int("PRAGMA application_id");
  std::int64_t version = db.query_int("PRAGMA user_version");
  std::int64_t objects = db.query_int("SELECT count(*) FROM sqlite_schema");
  if (app_id != roost_application_id && (app_id != 0 || objects > 0))
    return "is an SQLite database of another application (application_id " + hex(app_id) + ", " +
           std::to_string(objects) + " schema objects), not Roost's";
  // A Roost file's version counts migration steps; a negative one was never
  // written by any roost (and would index the step list from below).
  if (app_id == roost_application_id && version < 0)
    return "has schema version " + std::to_string(version) + ", which no roost writes";
  if (version > latest_schema_version())
    return "has schema version " + std::to_string(version) + ", newer than this roost understands (" +
           std::to_string(latest_schema_version()) + "); run a newer roost";
  return std::nullopt;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(migrations.size()); }

namespace {

// Past this size a full check would delay startup noticeably (about 7 s per
// cold GB here), so only what recovery reads is checked.
constexpr std::int64_t full_check_limit_bytes = 256ll * 1024 * 1024;

}  // namespace

std::optional<std::string> check_existing(sqlite::database& db) {
  if (auto problem = foreign_or_newer(db)) return problem;
  // A small file gets a full quick_check. A large one gets quick_check of
  // every table but messages (with their indexes): the b-tree structure of
  // everything recovery reads, bounded by the number of entries; damage to
  // message pages then surfaces as failed batches (SQLITE_CORRUPT) when
  // those messages are read or deleted.
  std::int64_t size = db.query_int("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
  std::vector<std::string> checks;
  if (size <= full_check_limit_bytes) {
    checks.push_back("PRAGMA quick_check");
  } else {
    auto list = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'messages'");
    list.each_row([&](sqlite::statement& row) { checks.push_back("PRAGMA quick_check(" + quoted(row.column_bytes(0)) + ")"); });
  }
  for (const std::string& check : checks) {
    std::string verdict = db.query_text(check);
    if (verdict == "ok") continue;
    for (char& c : verdict)
      if (c == '\n') c = ' ';  // the message is one line
    return "is corrupt (quick_check: " + verdict + ")";
  }
  return std::nullopt;
}

void configure_connection(sqlite::database& db, const open_options& options) {
  if (options.scratch) {
    // Survives nothing: a memory journal (one write per page, still able to
    // roll back a failed batch) beats WAL's double write, and exclusive
    // locking keeps the page cache valid across transactions.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
  }
  std::string wanted = options.scratch ? "memory" : "wal";
  std::string mode = db.query_text("PRAGMA journal_mode = " + wanted);
  if (mode != wanted)
    throw sqlite::sqlite_error(SQLITE_ERROR, "cannot switch to journal_mode " + wanted + " (got " + mode + ")");
  sync_mode sync = options.scratch ? sync_mode::off : options.sync;
  const char* level = sync == sync_mode::full ? "FULL" : sync == sync_mode::normal ? "NORMAL" : "OFF";
  db.exec(std::string("PRAGMA synchronous = ") + level);
  // Page cache: 32 MiB for the durable store. The scratch store only ever
  // appends at the right edge of its b-trees and reads them back in order,
  // so a few MiB serve it as well, and a deep transient queue does not keep
  // 32 MiB of pages resident. A WAL shrunk back to 64 MiB after checkpoints
  // so a burst does not keep its disk space forever.
  db.exec(options.scratch ? "PRAGMA cache_size = -4096" : "PRAGMA cache_size = -32768");
  db.exec("PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY");
}

void leave_self_contained(sqlite::database& db) {
  try {
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (const sqlite::sqlite_error&) {
    // Still a valid WAL file; the next open reads it as such.
  }
}

void migrate(sqlite::database& db) {
  int from = static_cast<int>(db.query_int("PRAGMA user_version"));
  if (from >= latest_schema_version() && db.query_int("PRAGMA application_id") == roost_application_id) return;
  sqlite::transaction tx(db);
  for (int step = from; step < latest_schema_version(); ++step) db.exec(migrations[static_cast<std::size_t>(step)]);
  if (from == 5) move_stream_entries_to_chunks(db);
  db.exec("PRAGMA application_id = " + std::to_string(roost_application_id));
  db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version()));
  tx.commit();
}

}  // namespace roost::storage
