// The leader's view of its followers (pure, no sockets): what each has
// acknowledged, which of them the in-sync replica list names, how far a
// publisher confirm may go, and when the list should change.
//
// The list changes in etcd first (the leader writes it, then calls
// written()); only then does this object count it. So a follower is
// dropped from what confirms wait for only once etcd no longer lets it
// lead, and a confirm never waits for less than the list in etcd says.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace roost::replication {

class in_sync_replicas {
 public:
  using clock = std::chrono::steady_clock;

  // last_seq: the leader's latest batch when it was elected.
  in_sync_replicas(std::string leader_id, std::chrono::milliseconds lag_timeout, std::uint64_t last_seq);

  // The list as etcd now holds it (the leader among its members).
  void written(std::vector<std::string> members);
  bool known() const { return known_; }
  const std::vector<std::string>& members() const { return members_; }

  void shipped(std::uint64_t seq, clock::time_point at);
  // A follower proved itself and holds every batch up to `position_seq`.
  void connected(const std::string& node, std::uint64_t position_seq);
  void disconnected(const std::string& node);
  void acked(const std::string& node, std::uint64_t seq);

  // The latest batch every member holds: confirms may go out up to it.
  // 0 until the list is known.
  std::uint64_t confirmable() const;
  std::uint64_t last_shipped() const { return last_seq_; }

  struct follower {
    std::uint64_t acked = 0;
    bool connected = false;
  };
  const std::map<std::string, follower>& followers() const { return followers_; }

  // The list the leader should write next, and why; null when it is right.
  struct change {
    std::vector<std::string> members;
    std::string reason;
  };
  std::optional<change> next_change(clock::time_point now) const;

 private:
  // How long `node` has had unacknowledged batches; zero when it has none.
  clock::duration behind_for(const std::string& node, clock::time_point now) const;
  std::uint64_t acked_by(const std::string& node) const;

  std::string leader_id_;
  std::chrono::milliseconds lag_timeout_;
  bool known_ = false;
  std::vector<std::string> members_;
  std::map<std::string, follower> followers_;
  std::uint64_t last_seq_ = 0;
  // When each batch not yet held by every member was shipped, by seq.
  std::deque<std::pair<std::uint64_t, clock::time_point>> shipped_at_;
};

}  // namespace roost::replication
