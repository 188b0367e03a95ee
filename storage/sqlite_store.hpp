// The SQLite store: one writer thread owning the write connection, group
// commit without a timer.
//
// submit() appends (operations, completion) to a pending list and wakes the
// writer. The writer takes everything pending (whole submissions, up to
// max_batch operations, always at least one submission) into one
// transaction, coalesces it (coalesce.hpp), commits, and posts the batch's
// completions in submission order through the poster. While one commit
// (an fsync with sync=full) runs, the next batch builds up, so the number
// of commits adapts to the disk instead of to a timer. A failed transaction
// is rolled back, its completions get ok=false, and the writer carries on:
// the next batch is tried normally, so the broker recovers once the disk
// has space again.
//
// The startup reads (recover()) happen in open_sqlite_store, where an error
// can still be reported; recover() hands over their result.
//
// A batch's operations, and with them the keep_alive of its messages, are
// destroyed on the writer thread once the batch is done; only completions
// travel back to the broker thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/file_lock.hpp"
#include "storage/operations.hpp"
#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace roost::storage {

// A batch a cluster's leader committed, on its way to the followers.
struct shipped_batch {
  batch_position position;
  std::shared_ptr<const std::string> encoded;  // storage/batch_codec.hpp
  std::vector<completion> done;                // the batch's completions, not run yet
};
using batch_sink = std::function<void(shipped_batch)>;

struct store_stats {
  std::uint64_t commits = 0;              // transactions committed
  std::uint64_t failed_transactions = 0;  // transactions rolled back
  std::uint64_t operations = 0;           // operations taken into transactions
  std::uint64_t coalesced = 0;            // of those, never executed (see coalesce.hpp)
  std::uint64_t rows_changed = 0;         // rows SQLite inserted, updated or deleted, committed or not
  std::string last_error;                 // SQLite's message for the latest failed transaction
};

class sqlite_store final : public store {
 public:
  sqlite_store(file_lock lock, sqlite::database db, const open_options& options, poster post,
               recovered_state recovered);
  ~sqlite_store() override;

  recovered_state recover() override;
  void submit(std::vector<operation> ops, completion done) override;
  std::size_t backlog() const override { return backlog_.load(std::memory_order_relaxed); }
  void close() override;

  store_stats stats() const;

  // A cluster's leader: from the next batch on, every batch carries
  // record_position{epoch, seq} (seq counting on from last_seq) and, once
  // committed, goes to `sink` (called on the writer thread) with its
  // completions instead of having them posted: the sink runs them when the
  // followers have the batch. A batch that fails takes no position and its
  // completions are posted with false, as ever.
  void ship_batches(std::uint64_t epoch, std::uint64_t last_seq, batch_sink sink);

  // Test hook, run on the writer thread just before each COMMIT. Returning
  // false fails that transaction as a full disk would. Set it before
  // submitting.
  void set_before_commit(std::function<bool()> hook);

 private:
  struct submission {
    std::vector<operation> ops;
    completion done;
  };

  void writer_loop();
  static bool writes_something(const std::vector<submission>& batch);
  // Blocks until there is work; empty once closing and drained.
  std::vector<submission> take_batch();
  // True if the batch's transaction committed. While shipping, `shipped`
  // receives the batch's position and encoding.
  bool execute(std::vector<submission>& batch, shipped_batch* shipped);
  void finish(std::vector<submission>& batch, bool ok, shipped_batch* shipped);

  file_lock lock_;  // released after db_ closes (file_lock.hpp says why)
  sqlite::database db_;
  std::optional<operation_executor> executor_;  // its statements go before db_ closes
  poster post_;
  std::size_t max_batch_;
  bool scratch_;
  recovered_state recovered_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<submission> pending_;
  bool closing_ = false;
  std::atomic<std::size_t> backlog_{0};
  store_stats stats_;  // guarded by mutex_
  std::function<bool()> before_commit_;
  // Replication (guarded by mutex_; the seq only moves on the writer thread).
  batch_sink sink_;
  std::uint64_t epoch_ = 0;
  std::uint64_t last_seq_ = 0;

  std::thread writer_;  // last: starts after everything it uses exists
};

}  // namespace roost::storage
