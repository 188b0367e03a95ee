#include "replication/in_sync_replicas.hpp"

#include <algorithm>

namespace roost::replication {

in_sync_replicas::in_sync_replicas(std::string leader_id, std::chrono::milliseconds lag_timeout,
                                   std::uint64_t last_seq)
    : leader_id_(std::move(leader_id)), lag_timeout_(lag_timeout), last_seq_(last_seq) {}

void in_sync_replicas::written(std::vector<std::string> members) {
  members_ = std::move(members);
  known_ = true;
}

void in_sync_replicas::shipped(std::uint64_t seq, clock::time_point at) {
  last_seq_ = seq;
  shipped_at_.emplace_back(seq, at);
  // Only the batches some member still lacks can make it lag.
  std::uint64_t held = confirmable();
  while (!shipped_at_.empty() && shipped_at_.front().first <= held) shipped_at_.pop_front();
}

void in_sync_replicas::connected(const std::string& node, std::uint64_t position_seq) {
  followers_[node] = follower{position_seq, true};
}

void in_sync_replicas::disconnected(const std::string& node) {
  auto it = followers_.find(node);
  if (it != followers_.end()) it->second.connected = false;
}

void in_sync_replicas::acked(const std::string& node, std::uint64_t seq) {
  auto it = followers_.find(node);
  if (it != followers_.end()) it->second.acked = std::max(it->second.acked, seq);
}

std::uint64_t in_sync_replicas::acked_by(const std::string& node) const {
  if (node == leader_id_) return last_seq_;
  auto it = followers_.find(node);
  return it == followers_.end() ? 0 : it->second.acked;
}

std::uint64_t in_sync_replicas::confirmable() const {
  if (!known_) return 0;
  std::uint64_t held = last_seq_;
  for (const std::string& m : members_) held = std::min(held, acked_by(m));
  return held;
}

in_sync_replicas::clock::duration in_sync_replicas::behind_for(const std::string& node, clock::time_point now) const {
  std::uint64_t acked = acked_by(node);
  if (acked >= last_seq_) return clock::duration::zero();
  for (const auto& [seq, at] : shipped_at_)
    if (seq > acked) return now - at;
  // Behind batches this leader never timed (shipped before it counted
  // them): behind for as long as anything is known to have waited.
  return shipped_at_.empty() ? clock::duration::zero() : now - shipped_at_.front().second;
}

std::optional<in_sync_replicas::change> in_sync_replicas::next_change(clock::time_point now) const {
  if (!known_) return std::nullopt;
  change next{members_, {}};
  auto note = [&next](const std::string& text) { next.reason += (next.reason.empty() ? "" : "; ") + text; };
  std::erase_if(next.members, [&](const std::string& m) {
    if (m == leader_id_ || behind_for(m, now) <= lag_timeout_) return false;
    note(m + " is " + std::to_string(last_seq_ - acked_by(m)) + " batches behind for more than " +
         std::to_string(lag_timeout_.count()) + " ms");
    return true;
  });
  for (const auto& [node, f] : followers_) {
    bool listed = std::find(next.members.begin(), next.members.end(), node) != next.members.end();
    if (listed || !f.connected || f.acked < last_seq_) continue;
    next.members.push_back(node);
    note(node + " caught up at batch " + std::to_string(last_seq_));
  }
  if (next.members == members_) return std::nullopt;
  return next;
}

}  // namespace roost::replication
