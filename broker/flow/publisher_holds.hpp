// The connection's side of publisher flow control (publisher_flow.hpp is the
// queue's): which queues are holding this connection's publishes back, and
// a wake-up registered with each so the connection's reader resumes as soon
// as one of them lets go.
//
// One per connection, broker thread only. Nothing is allocated while no
// queue holds the connection; while one does, the reader's re-check costs a
// pass over the (few) holding queues.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace roost {

class queue;
class vhost;

class publisher_holds {
 public:
  // Resumes the connection's reader. It must tolerate being called after
  // the connection has gone (a queue may let go later).
  using wake_fn = std::function<void()>;

  bool empty() const { return waits_.empty(); }
  bool held_by(const queue& q) const;
  // `q` holds its publishers and this connection just published to it.
  void add(queue& q, const wake_fn& wake);
  // Forgets the queues that let go or are gone (all of them when `vh` is
  // null: the connection is no longer open), asks a queue that holds again
  // after spending our wake-up for another, and says whether any still holds.
  bool still_held(vhost* vh, const wake_fn& wake);

 private:
  // A queue holding the connection back, and its release count when we
  // asked it for a wake-up (publisher_flow::releases).
  struct wait {
    std::uint32_t queue_id;
    std::uint64_t registered_at;
  };

  static void register_with(queue& q, wait& w, const wake_fn& wake);

  std::vector<wait> waits_;
};

}  // namespace roost
