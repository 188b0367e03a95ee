// The most recent encoded batches, in seq order without gaps, up to a
// byte budget: what a leader serves a joining follower from. A follower
// keeps one too, of what it received, so that once elected it can serve
// the followers that were a little behind it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace roost::replication {

class batch_log {
 public:
  explicit batch_log(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // Appends batch `seq`; a seq that does not follow the last one starts
  // the log over (what came before is not contiguous with it). Drops the
  // oldest batches past the budget, always keeping the newest.
  void append(std::uint64_t seq, std::shared_ptr<const std::string> encoded);
  // Batch `seq`, or null if it is not held.
  std::shared_ptr<const std::string> find(std::uint64_t seq) const;
  bool empty() const { return batches_.empty(); }
  std::uint64_t oldest() const { return first_seq_; }
  std::uint64_t newest() const { return first_seq_ + batches_.size() - 1; }
  void clear();

 private:
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::uint64_t first_seq_ = 0;
  std::deque<std::shared_ptr<const std::string>> batches_;
};

}  // namespace roost::replication
