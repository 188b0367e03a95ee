// The writer thread and the submit/close protocol around it. Completions
// are always posted, never called here: they belong to the broker thread.
#include "storage/sqlite_store.hpp"

#include <sqlite3.h>

#include <exception>
#include <iterator>
#include <utility>

#include "storage/batch_codec.hpp"
#include "storage/coalesce.hpp"
#include "storage/schema.hpp"

namespace roost::storage {

sqlite_store::sqlite_store(file_lock lock, sqlite::database db, const open_options& options, poster post,
                           recovered_state recovered)
    : lock_(std::move(lock)),
      db_(std::move(db)),
      post_(std::move(post)),
      max_batch_(options.max_batch > 0 ? options.max_batch : 1),
      scratch_(options.scratch),
      recovered_(std::move(recovered)) {
  executor_.emplace(db_);
  writer_ = std::thread([this] { writer_loop(); });
}

sqlite_store::~sqlite_store() { close(); }

recovered_state sqlite_store::recover() { return std::move(recovered_); }

void sqlite_store::submit(std::vector<operation> ops, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!closing_) {
      backlog_.fetch_add(ops.size(), std::memory_order_relaxed);
      pending_.push_back(submission{std::move(ops), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  // Closed: nothing will be written; say so the usual way.
  if (done) post_([done = std::move(done)] { done(false); });
}

void sqlite_store::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  // With the connection closed and the lock gone the file can be reopened
  // as soon as close() returns.
  executor_.reset();
  if (db_ && !scratch_) leave_self_contained(db_);
  db_ = sqlite::database();
  lock_.release();
}

store_stats sqlite_store::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void sqlite_store::set_before_commit(std::function<bool()> hook) {
  std::lock_guard lock(mutex_);
  before_commit_ = std::move(hook);
}

void sqlite_store::ship_batches(std::uint64_t epoch, std::uint64_t last_seq, batch_sink sink) {
  std::lock_guard lock(mutex_);
  epoch_ = epoch;
  last_seq_ = last_seq;
  sink_ = std::move(sink);
}

bool sqlite_store::writes_something(const std::vector<submission>& batch) {
  for (const submission& s : batch)
    for (const operation& op : s.ops)
      if (!std::holds_alternative<load_entries>(op)) return true;
  return false;
}

void sqlite_store::writer_loop() {
  for (;;) {
    std::vector<submission> batch = take_batch();
    if (batch.empty()) return;
    shipped_batch shipped;
    bool shipping = false;
    {
      // Reads alone (a queue paging in) change nothing a follower holds:
      // they take no position and their completions are not held.
      std::lock_guard lock(mutex_);
      shipping = sink_ && writes_something(batch);
      if (shipping) shipped.position = {epoch_, last_seq_ + 1};
    }
    bool ok = execute(batch, shipping ? &shipped : nullptr);
    finish(batch, ok, shipping ? &shipped : nullptr);
  }
}

std::vector<sqlite_store::submission> sqlite_store::take_batch() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return closing_ || !pending_.empty(); });
  // Whole submissions only: a submission is all-or-nothing, so one larger
  // than max_batch still goes, alone.
  std::size_t taken = 0;
  std::size_t ops = 0;
  while (taken < pending_.size()) {
    std::size_t size = pending_[taken].ops.size();
    if (taken > 0 && ops + size > max_batch_) break;
    ops += size;
    ++taken;
  }
  auto end = pending_.begin() + static_cast<std::ptrdiff_t>(taken);
  std::vector<submission> batch(std::make_move_iterator(pending_.begin()), std::make_move_iterator(end));
  pending_.erase(pending_.begin(), end);
  return batch;
}

bool sqlite_store::execute(std::vector<submission>& batch, shipped_batch* shipped) {
  std::vector<operation*> ops;
  for (submission& s : batch)
    for (operation& op : s.ops) ops.push_back(&op);
  // The position commits with the batch it describes, on the leader as on
  // every follower that applies the batch.
  operation position = record_position{shipped != nullptr ? shipped->position : batch_position{}};
  if (shipped != nullptr) ops.push_back(&position);
  std::size_t coalesced = coalesce(ops);
  std::int64_t changes_before = db_.total_changes();
  std::function<bool()> hook;
  {
    std::lock_guard lock(mutex_);
    hook = before_commit_;
  }
  std::string error;
  try {
    sqlite::transaction tx(db_);
    executor_->apply_batch(ops);
    if (hook && !hook()) throw sqlite::sqlite_error(SQLITE_FULL, "database or disk is full (injected by test hook)");
    tx.commit();
  } catch (const std::exception& e) {
    // The transaction guard has rolled back; nothing of this batch is stored.
    error = e.what();
  }
  bool ok = error.empty();
  if (ok && shipped != nullptr) {
    std::vector<const operation*> committed(ops.begin(), ops.end());
    auto encoded = std::make_shared<std::string>();
    encode_batch(shipped->position, committed, *encoded);
    shipped->encoded = std::move(encoded);
  }
  std::lock_guard lock(mutex_);
  if (ok && shipped != nullptr && sink_) last_seq_ = shipped->position.seq;
  stats_.operations += ops.size();
  stats_.coalesced += coalesced;
  stats_.rows_changed += static_cast<std::uint64_t>(db_.total_changes() - changes_before);
  if (ok) {
    ++stats_.commits;
  } else {
    ++stats_.failed_transactions;
    stats_.last_error = std::move(error);
  }
  return ok;
}

void sqlite_store::finish(std::vector<submission>& batch, bool ok, shipped_batch* shipped) {
  std::size_t ops = 0;
  std::vector<completion> done;
  for (submission& s : batch) {
    ops += s.ops.size();
    if (!ok)  // a failed read returns nothing rather than a partial page
      for (operation& op : s.ops)
        if (auto* load = std::get_if<load_entries>(&op); load != nullptr && load->into) load->into->clear();
    if (s.done) done.push_back(std::move(s.done));
  }
  backlog_.fetch_sub(ops, std::memory_order_relaxed);
  if (ok && shipped != nullptr) {
    shipped->done = std::move(done);
    batch_sink sink;
    {
      std::lock_guard lock(mutex_);
      sink = sink_;
    }
    if (sink) {
      sink(std::move(*shipped));
      return;
    }
    done = std::move(shipped->done);
  }
  // One post per batch, completions in submission order inside it: one
  // hop to the broker thread instead of thousands.
  if (!done.empty()) post_([done = std::move(done), ok] {
      for (const completion& d : done) d(ok);
    });
}

}  // namespace roost::storage
