#include "replication/history.hpp"

namespace roost::replication {

namespace {

// The epoch in which the leader wrote its batch `seq`; 0 if none began by then.
std::uint64_t epoch_of(std::uint64_t seq, const std::vector<storage::batch_position>& starts) {
  std::uint64_t epoch = 0;
  for (const storage::batch_position& start : starts)
    if (start.seq <= seq) epoch = start.epoch;
  return epoch;
}

}  // namespace

join_plan plan_join(storage::batch_position follower, const leader_history& leader) {
  if (follower.seq > leader.last_seq) return join_plan::diverged;
  if (follower.seq != 0 && epoch_of(follower.seq, leader.epoch_starts) != follower.epoch) return join_plan::diverged;
  bool covered = follower.seq == leader.last_seq || follower.seq + 1 >= leader.oldest_retained;
  return covered ? join_plan::stream : join_plan::needs_snapshot;
}

}  // namespace roost::replication
