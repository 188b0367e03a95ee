// The durable store: the only interface the broker uses to persist anything.
//
// Everything here is plain data; nothing knows SQLite except the
// implementation (sqlite_store). Writes are operations handed to submit()
// together with a completion: the store applies them in submission order,
// many submissions per transaction (group commit), and calls the completion
// on the broker thread, through the poster given at open, once the
// transaction that holds them has committed (ok = true) or failed (ok =
// false, nothing of that transaction is stored). Reads needed at run time
// (paging a deep queue back in) are operations too, so they see every write
// submitted before them.
//
// Thread use: construct, open, recover and submit from the broker thread;
// the store runs its own writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace roost::storage {

enum class sync_mode { full, normal, off };

// An entry's seq carries its queue's priority lane in the bits from
// lane_shift up (0 for a queue without priorities), so that each lane is
// one contiguous seq range: paged in order, and purged, on its own.
constexpr unsigned lane_shift = 48;
constexpr std::uint64_t lane_base(std::size_t lane) { return std::uint64_t{lane} << lane_shift; }
constexpr std::size_t lane_of(std::uint64_t seq) { return static_cast<std::size_t>(seq >> lane_shift); }
// An upper seq bound that excludes nothing (SQLite integers are signed).
constexpr std::uint64_t no_seq_limit = std::uint64_t{INT64_MAX};

// Table-valued fields (arguments) are kept as their AMQP wire encoding
// (4-byte length + entries); the store never looks inside.
struct exchange_record {
  std::string vhost;
  std::string name;
  std::string type;
  bool auto_delete = false;
  bool internal = false;
  std::string arguments;
  bool operator==(const exchange_record&) const = default;
};

struct queue_record {
  std::uint64_t id = 0;  // chosen by the broker, unique for the store's lifetime
  std::string vhost;
  std::string name;
  bool auto_delete = false;
  std::string arguments;
  bool operator==(const queue_record&) const = default;
};

struct binding_record {
  std::string vhost;
  std::string source;
  bool to_exchange = false;  // destination is an exchange, not a queue
  std::string destination;
  std::string routing_key;
  std::string arguments;
  bool operator==(const binding_record&) const = default;
};

// A message's content, stored once however many queues hold it. The views
// point into memory kept alive by keep_alive until the write is done, so
// the broker hands over its message without copying the body.
struct message_content {
  std::uint64_t id = 0;  // chosen by the broker
  std::shared_ptr<const void> keep_alive;
  std::string_view exchange;
  std::string_view routing_key;
  std::string_view properties;  // content header property flags + list, as published
  std::string_view body;
  // Transient messages are stored only when paged out of memory; recovery drops them.
  bool persistent = true;
};

// One queue's reference to a message, at position seq.
struct entry_record {
  std::uint64_t queue_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t message_id = 0;
  std::uint32_t delivery_count = 0;
  bool delivered = false;        // handed to a consumer at least once: comes back redelivered
  std::int64_t expires_at_ms = 0;  // 0 = never; the message TTL
  // A stream's entry: when it was appended (wall-clock milliseconds, never
  // less than the entry before it), for x-stream-offset timestamps and
  // x-max-age. 0 for a queue's entries. (Schema step 1's column ready_at_ms,
  // reserved and never written until streams.)
  std::int64_t appended_at_ms = 0;
  bool operator==(const entry_record&) const = default;
};

// A queue entry read back with its message (recovery paging).
struct loaded_entry {
  entry_record entry;
  bool persistent = true;
  std::string exchange;
  std::string routing_key;
  std::string properties;
  std::string body;
};

// A message held back by a delayed exchange until due_at_ms (wall-clock
// milliseconds since the Unix epoch), with the queues its publish was routed
// to. Its content is an insert_message in the same submission.
struct delayed_record {
  std::uint64_t message_id = 0;
  std::int64_t due_at_ms = 0;
  std::vector<std::uint64_t> queue_ids;
  bool operator==(const delayed_record&) const = default;
};

// A delayed message read back at startup, with its content.
struct loaded_delayed {
  delayed_record record;
  std::string exchange;
  std::string routing_key;
  std::string properties;
  std::string body;
};

// Access control and policies, as plain data. A limit that is absent means
// no limit. Names of users and vhosts are compared byte-wise.
struct user_record {
  std::string name;
  // Base64 of salt + digest, as RabbitMQ's definitions carry it; empty: the
  // user has no password (it can log in only by other means).
  std::string password_hash;
  std::string hashing_algorithm;  // "rabbit_password_hashing_sha256", "..._sha512", "..._md5"
  std::string tags;               // comma-separated, as in RabbitMQ's definitions
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> max_channels;
  bool operator==(const user_record&) const = default;
};

struct vhost_record {
  std::string name;
  std::string description;
  std::string tags;  // comma-separated
  std::string default_queue_type;
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> max_queues;
  bool operator==(const vhost_record&) const = default;
};

// Regular expressions over resource names, one per kind of access.
struct permission_record {
  std::string user;
  std::string vhost;
  std::string configure;
  std::string write;
  std::string read;
  bool operator==(const permission_record&) const = default;
};

// Regular expressions over routing keys, for one topic exchange.
struct topic_permission_record {
  std::string user;
  std::string vhost;
  std::string exchange;
  std::string write;
  std::string read;
  bool operator==(const topic_permission_record&) const = default;
};

// A policy or an operator policy (RabbitMQ keeps the two apart: same name,
// different kind, both may exist).
struct policy_record {
  std::string vhost;
  std::string name;
  bool operator_policy = false;
  std::string pattern;   // a regular expression over queue or exchange names
  std::string apply_to;  // "queues", "exchanges" or "all"
  std::int64_t priority = 0;
  std::string definition;  // AMQP field table encoding, like arguments
  bool operator==(const policy_record&) const = default;
};

// Where a committed batch sits in a cluster's history: the leader's epoch
// (its leadership's etcd revision) and the batch's number, which goes on
// from one epoch to the next.
struct batch_position {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  bool operator==(const batch_position&) const = default;
};

// ---- operations ----
struct put_exchange { exchange_record exchange; };
// Also removes bindings with this exchange as source or destination.
struct delete_exchange { std::string vhost; std::string name; };
struct put_queue { queue_record queue; };
// Also removes the queue's entries, its bindings, its place in delayed
// messages' targets, messages left without entries, and a stream's chunks,
// segment starts and tracked offsets.
struct delete_queue { std::uint64_t queue_id = 0; };
struct put_binding { binding_record binding; };
struct delete_binding { binding_record binding; };
struct insert_message { message_content content; };
struct insert_entry { entry_record entry; };
// Removes one entry; the message goes too once no entry refers to it.
struct remove_entry { std::uint64_t queue_id = 0; std::uint64_t seq = 0; };
// Records delivery state (delivered flag, delivery count) of an entry.
struct update_entry { entry_record entry; };
// Removes every entry of a queue with from_seq <= seq < to_seq (and
// orphaned messages), and a stream's chunks and segment starts that lie
// wholly in that range.
struct purge_queue {
  std::uint64_t queue_id = 0;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = no_seq_limit;
};
// Reads up to `limit` entries of a queue with after_seq < seq < before_seq,
// in seq order, with their messages; `into` is filled before the completion runs.
struct load_entries {
  std::uint64_t queue_id = 0;
  std::uint64_t after_seq = 0;
  std::size_t limit = 0;
  std::shared_ptr<std::vector<loaded_entry>> into;
  std::uint64_t before_seq = no_seq_limit;
  // Stops after the entry whose body reaches this many bytes in all; 0: no byte limit.
  std::uint64_t max_bytes = 0;
  // The queue is a stream: its entries are in its chunks (append_stream).
  bool stream = false;
  // Passes over this many entries of the range first (browsing a queue from
  // a position); not for streams, which find an offset by its seq.
  std::uint64_t skip = 0;
};

struct insert_delayed { delayed_record delayed; };
// The delayed message is due: forget its delay (the entries of its queues
// are inserted in the same submission); its content goes too if no entry
// refers to it.
struct remove_delayed { std::uint64_t message_id = 0; };

// Insert or replace, by name.
struct put_user { user_record user; };
// Also removes the user's permissions and topic permissions.
struct delete_user { std::string name; };
struct put_vhost { vhost_record vhost; };
// Removes everything in the vhost, as one operation: its exchanges, queues
// (with their entries, their places in delayed messages' targets, and
// messages left without entries), bindings, permissions, topic permissions
// and policies.
struct delete_vhost { std::string name; };
// Insert or replace, by (user, vhost).
struct put_permission { permission_record permission; };
struct delete_permission { std::string user; std::string vhost; };
// Insert or replace, by (user, vhost, exchange).
struct put_topic_permission { topic_permission_record permission; };
struct delete_topic_permission { std::string user; std::string vhost; std::string exchange; };
// Insert or replace, by (vhost, name, operator_policy).
struct put_policy { policy_record policy; };
struct delete_policy { std::string vhost; std::string name; bool operator_policy = false; };
// The batch holding it is the cluster's batch at `position` (the leader's
// writer adds it to each batch it ships; a follower applies it with the
// rest, so its position commits with the data it describes). The first
// batch of an epoch also records where that epoch began.
struct record_position { batch_position position; };
// A stream's next segment begins at entry first_seq (retention removes
// whole segments: purge_queue up to the first seq it keeps).
struct start_segment {
  std::uint64_t queue_id = 0;
  std::uint64_t first_seq = 0;
};
// Insert or replace: the offset a stream consumer with server-side offset
// tracking last acknowledged, under its consumer tag.
struct put_stream_offset {
  std::uint64_t queue_id = 0;
  std::string consumer_tag;
  std::uint64_t offset = 0;
};

// A message appended to a stream at `seq`, its content inline: the
// writer packs the appends of one transaction to one stream into one chunk
// row (storage/stream_chunk.hpp). content.id is not used.
struct append_stream {
  std::uint64_t queue_id = 0;
  std::uint64_t seq = 0;
  std::int64_t appended_at_ms = 0;
  message_content content;
};

using operation = std::variant<put_exchange, delete_exchange, put_queue, delete_queue, put_binding, delete_binding,
                               insert_message, insert_entry, remove_entry, update_entry, purge_queue, load_entries,
                               insert_delayed, remove_delayed, put_user, delete_user, put_vhost, delete_vhost,
                               put_permission, delete_permission, put_topic_permission, delete_topic_permission,
                               put_policy, delete_policy, record_position, start_segment, put_stream_offset,
                               append_stream>;

// The entries of one priority lane of a queue.
struct lane_summary {
  std::size_t lane = 0;
  std::uint64_t entry_count = 0;
  std::uint64_t max_seq = 0;
};

// A stored entry with a TTL: its queue indexes it by expiry at startup,
// paged out or not, so that it expires on time.
struct expiring_entry {
  std::uint64_t seq = 0;
  std::int64_t expires_at_ms = 0;
  std::uint64_t body_size = 0;
};

// One segment of a stream, from the entries walk at startup.
struct segment_summary {
  std::uint64_t first_seq = 0;
  std::uint64_t entry_count = 0;
  std::uint64_t body_bytes = 0;
  std::int64_t first_appended_at_ms = 0;
  std::int64_t last_appended_at_ms = 0;
  bool operator==(const segment_summary&) const = default;
};

struct tracked_offset {
  std::string consumer_tag;
  std::uint64_t offset = 0;
  bool operator==(const tracked_offset&) const = default;
};

// What a queue holds on disk, found at startup without loading its entries.
struct queue_summary {
  queue_record queue;
  std::uint64_t entry_count = 0;
  std::uint64_t max_seq = 0;
  // Every lane that holds entries, ascending.
  std::vector<lane_summary> lanes;
  // Body bytes of all entries (x-max-length-bytes counts them from the start).
  std::uint64_t body_bytes = 0;
  // The entries with a TTL, ascending seq.
  std::vector<expiring_entry> expiring;
  // A stream's segments, ascending (empty for a queue), and its consumers'
  // tracked offsets by tag.
  std::vector<segment_summary> segments;
  std::vector<tracked_offset> tracked_offsets;
};

struct recovered_state {
  // Empty in a data dir that has never been opened by a roost with access
  // control: the broker then creates "/" and its first user.
  std::vector<vhost_record> vhosts;
  std::vector<user_record> users;
  std::vector<permission_record> permissions;
  std::vector<topic_permission_record> topic_permissions;
  std::vector<policy_record> policies;
  std::vector<exchange_record> exchanges;
  std::vector<queue_summary> queues;
  std::vector<binding_record> bindings;
  std::vector<loaded_delayed> delayed;  // ascending due_at_ms
  std::uint64_t max_message_id = 0;
  std::uint64_t max_queue_id = 0;
  // In a cluster: the last batch this store applied, and where each epoch
  // of its history began ({epoch, first seq}, ascending). Empty outside one.
  batch_position position;
  std::vector<batch_position> epoch_starts;
};

using completion = std::function<void(bool ok)>;
// Runs a function on the broker thread (asio::post in the real broker).
using poster = std::function<void(std::function<void()>)>;

class store {
 public:
  virtual ~store() = default;

  // Reads all definitions and per-queue summaries, after dropping transient
  // (non-persistent) messages left over from the last run. Call once, before submitting.
  virtual recovered_state recover() = 0;
  // Queues operations; `done` (may be empty) runs on the broker thread after
  // the transaction holding them commits or fails.
  virtual void submit(std::vector<operation> ops, completion done) = 0;
  // Operations submitted but not yet committed: the back-pressure signal.
  virtual std::size_t backlog() const = 0;
  // Commits everything submitted so far and stops the writer thread.
  virtual void close() = 0;
};

struct open_options {
  std::string data_dir;
  std::string file_name = "roost.db";
  sync_mode sync = sync_mode::full;
  // A scratch store holds transient messages paged out of memory: it starts
  // empty (any previous file is replaced), never syncs, and survives nothing.
  bool scratch = false;
  // Most operations one transaction takes; later ones wait for the next.
  std::size_t max_batch = 20000;
};

// Opens (creating if absent) the store under options.data_dir. On any
// problem (unwritable dir, corrupt or foreign file, schema newer than this
// binary) returns nullptr and a clear message in `error`, having changed
// nothing on disk.
std::unique_ptr<store> open_sqlite_store(const open_options& options, poster post, std::string& error);

}  // namespace roost::storage
