// Applies store operations to the write connection: one prepared statement
// (or a few) per operation kind, prepared once when the writer starts.
//
// The executor knows nothing about transactions; the writer opens the
// transaction and calls apply_batch() with the operations that survived
// coalescing. Any SQLite error is thrown and fails the whole batch.
#pragma once

#include <vector>

#include "storage/sqlite.hpp"
#include "storage/store.hpp"
#include "storage/stream_chunk_table.hpp"

namespace roost::storage {

class operation_executor {
 public:
  explicit operation_executor(sqlite::database& db);

  // Applies the operations in order (null ones are skipped), a stream's
  // appends packed into chunks that are all written when it returns.
  void apply_batch(const std::vector<operation*>& ops);

 private:
  void apply(operation& op);
  void run(const put_exchange& op);
  void run(const delete_exchange& op);
  void run(const put_queue& op);
  void run(const delete_queue& op);
  void run(const put_binding& op);
  void run(const delete_binding& op);
  void run(const insert_message& op);
  void run(const insert_entry& op);
  void run(const remove_entry& op);
  void run(const update_entry& op);
  void run(const purge_queue& op);
  void run(const load_entries& op);
  void run(const insert_delayed& op);
  void run(const remove_delayed& op);
  void run(const put_user& op);
  void run(const delete_user& op);
  void run(const put_vhost& op);
  void run(const delete_vhost& op);
  void run(const put_permission& op);
  void run(const delete_permission& op);
  void run(const put_topic_permission& op);
  void run(const delete_topic_permission& op);
  void run(const put_policy& op);
  void run(const delete_policy& op);
  void run(const record_position& op);
  void run(const start_segment& op);
  void run(const put_stream_offset& op);
  void run(const append_stream& op) { chunks_.append(op); }

  // Shared by delete_queue and purge_queue: the queue's entries, then the
  // messages only they referred to, and a stream's chunks and segment starts.
  void remove_entries(std::uint64_t queue_id, std::uint64_t from_seq, std::uint64_t to_seq);
  void bind_binding(sqlite::statement& s, const binding_record& b);

  sqlite::statement put_exchange_;
  sqlite::statement delete_exchange_;
  sqlite::statement delete_source_bindings_;
  sqlite::statement delete_destination_bindings_;
  sqlite::statement put_queue_;
  sqlite::statement same_name_queues_;
  sqlite::statement delete_queue_;
  sqlite::statement delete_queue_bindings_;
  sqlite::statement put_binding_;
  sqlite::statement delete_binding_;
  sqlite::statement insert_message_;
  sqlite::statement insert_entry_;
  sqlite::statement remove_entry_;
  sqlite::statement delete_orphan_message_;
  sqlite::statement update_entry_;
  sqlite::statement delete_queue_orphans_;
  sqlite::statement delete_queue_entries_;
  sqlite::statement load_entries_;
  sqlite::statement skip_entries_;
  sqlite::statement insert_delayed_;
  sqlite::statement insert_delayed_target_;
  sqlite::statement remove_delayed_;
  sqlite::statement remove_delayed_targets_;
  sqlite::statement delete_queue_delayed_targets_;
  // Access control and policies.
  sqlite::statement put_user_;
  sqlite::statement delete_user_;
  sqlite::statement delete_user_permissions_;
  sqlite::statement delete_user_topic_permissions_;
  sqlite::statement put_vhost_;
  sqlite::statement vhost_queues_;
  // Everything delete_vhost removes by the vhost's name, after its queues.
  std::vector<sqlite::statement> delete_vhost_rows_;
  sqlite::statement put_permission_;
  sqlite::statement delete_permission_;
  sqlite::statement put_topic_permission_;
  sqlite::statement delete_topic_permission_;
  sqlite::statement put_policy_;
  sqlite::statement delete_policy_;
  sqlite::statement record_epoch_;
  sqlite::statement record_position_;
  sqlite::statement start_segment_;
  sqlite::statement delete_segments_;
  sqlite::statement put_stream_offset_;
  sqlite::statement delete_stream_offsets_;
  stream_chunk_table chunks_;
};

}  // namespace roost::storage
