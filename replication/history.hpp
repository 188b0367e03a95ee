// Where a follower joining the leader starts, from the two positions and
// the leader's history (pure; docs/architecture.md, "Replication").
//
// A position (epoch, seq) names one batch: seq numbers go on from epoch to
// epoch, and within an epoch only its leader numbered batches. So a
// follower whose last batch is (e, s) holds exactly the leader's history
// up to s when the leader's batch s was written in epoch e too; otherwise
// the follower applied a batch the leader never had (a deposed leader's
// unconfirmed work) and has diverged.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/store.hpp"

namespace roost::replication {

struct leader_history {
  // {epoch, first seq} for each epoch of the leader's history, ascending.
  std::vector<storage::batch_position> epoch_starts;
  std::uint64_t last_seq = 0;            // the leader's latest batch
  std::uint64_t oldest_retained = 1;     // the oldest batch it can still send
};

enum class join_plan {
  stream,          // send the batches after the follower's position
  needs_snapshot,  // consistent, but the batches it lacks are no longer retained
  diverged,        // it holds batches the leader does not: start over from a snapshot
};

join_plan plan_join(storage::batch_position follower, const leader_history& leader);

}  // namespace roost::replication
