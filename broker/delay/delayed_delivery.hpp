// Delayed messages of one vhost: what an x-delayed-message exchange (or an
// exchange declared with x-delayed-exchange = true) does with a publish
// carrying a positive x-delay header, compatible with RabbitMQ's
// delayed-message plugin and better than it in three ways:
//   - routing is decided at publish time, so mandatory works (an unroutable
//     publish is returned at once) and the queues a message will reach are
//     fixed then;
//   - a persistent message routed to durable queues is stored (its content,
//     due time and target queues) before it is confirmed, and survives a
//     restart or a crash; due at startup means delivered at once;
//   - one heap (delay_schedule) and one timer on the broker thread serve any
//     number of pending messages, with millisecond due times in 64 bits, so
//     delays of years are fine.
// When a message comes due it is appended to each target queue that still
// exists, in due order (publish order among equal due times); its stored
// entries and the removal of its delay go to the store in one submission.
//
// Pending messages are held in memory (content shared, not copied); a
// million small ones cost a few hundred MB. Lives on the broker thread,
// owned by its vhost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "broker/common/lifetime_token.hpp"
#include "broker/delay/delay_schedule.hpp"
#include "broker/model/message.hpp"
#include "broker/model/storage_context.hpp"

namespace boost::asio {
class io_context;
}

namespace roost {

class queue;
class vhost;

class delayed_delivery {
 public:
  // How many due messages one timer run releases before letting other work in.
  static constexpr std::size_t release_batch = 20000;

  delayed_delivery(vhost& owner, storage_context* storage);
  delayed_delivery(const delayed_delivery&) = delete;
  delayed_delivery& operator=(const delayed_delivery&) = delete;
  ~delayed_delivery();

  // Releases due messages from then on with a timer on this (the broker
  // thread's) io_context. Without it, only release_due() releases (unit tests).
  void start(boost::asio::io_context& io);

  // The message's x-delay header in milliseconds, if it is an integer; 0
  // (no delay) when absent, negative or not an integer, as in the plugin.
  static std::int64_t delay_of(const message& msg);
  // Wall-clock milliseconds since the Unix epoch: due times survive restarts.
  static std::int64_t now_ms();

  // Holds msg back for delay_ms, then appends it to the targets (the queues
  // its publish was routed to). A persistent message with a durable target
  // is stored first: then `stored` runs after the commit and hold returns
  // true. Otherwise nothing is written, `stored` is dropped, and it returns false.
  bool hold(message_ref msg, const std::vector<queue*>& targets, std::int64_t delay_ms, storage::completion stored);
  // Recovery: a stored delayed message and the queues (found by store id) it targets.
  void restore(const storage::loaded_delayed& stored, const std::vector<queue*>& targets);

  // Appends every message due at or before now_ms (at most release_batch)
  // to its queues; returns how many were released.
  std::size_t release_due(std::int64_t now_ms);
  std::size_t pending() const { return schedule_.size(); }

  // The schedule as an operator sees and changes it (the admin API's
  // /api/scheduled; delayed_changes.cpp). A pending message's id is its
  // place in arrival order: it names the message until it is released.
  struct pending_message {
    std::uint64_t id = 0;
    std::int64_t due_ms = 0;
    const message_ref& msg;
    const std::vector<std::uint32_t>& queue_ids;
  };
  using pending_pick = std::function<bool(const pending_message&)>;
  // Calls f for every pending message, in no particular order.
  void list(const std::function<void(const pending_message&)>& f) const;
  // Drops the messages pick chooses, and their stored copies; returns how many.
  std::size_t cancel(const pending_pick& pick);
  // Holds the messages pick chooses until due_ms instead (stored copies
  // too); returns how many. Due now or earlier: released at once.
  std::size_t reschedule(const pending_pick& pick, std::int64_t due_ms);

 private:
  struct held {
    message_ref msg;
    std::vector<std::uint32_t> queue_ids;  // the vhost's ids; a deleted queue is simply not found
    bool stored = false;                   // the store has it in its delayed table
  };
  struct timer;

  void add(std::int64_t due_ms, message_ref msg, const std::vector<queue*>& targets, bool stored);
  // (Re)arms the timer for the earliest due message, if that is earlier than what it waits for.
  void arm();
  void on_timer();

  vhost& vhost_;
  storage_context* storage_;
  delay_schedule<held> schedule_;
  std::unique_ptr<timer> timer_;
  std::vector<held> due_scratch_;
  std::vector<queue*> touched_scratch_;
  // Held messages whose store write failed (disk full): released as transient.
  std::unordered_set<std::uint64_t> not_stored_;
  lifetime_token<delayed_delivery> alive_{this};
};

}  // namespace roost
