// A queue: ready messages in order, the consumers attached to it, and the
// round-robin dispatch between them; and, when durable, the queue's entries
// in the store.
//
// Lives on the broker thread and is changed only through its own methods.
// Unacknowledged deliveries are tracked by the channels that hold them, not
// here; they come back through requeue(), which puts each message back at its
// original position (by sequence number), as RabbitMQ does, or go away
// through settle().
//
// Memory stays bounded however deep a queue grows: at most `queue_window`
// ready messages live in memory; past that, new messages stay only in a
// store (the durable one for durable queues, the scratch one otherwise) and
// are read back in seq order as consumers drain the window.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/amqp/field_table.hpp"
#include "broker/lifetime_token.hpp"
#include "broker/message.hpp"
#include "broker/storage_context.hpp"

namespace roost {

class queue;

struct queued_message {
  message_ref msg;
  std::uint64_t seq = 0;
  bool redelivered = false;
  // The entry exists in the durable store: an ack must remove it there.
  bool stored = false;
};

// Something a queue can hand messages to. Implemented by channel consumers;
// tests implement it directly.
class consumer {
 public:
  virtual ~consumer() = default;
  // True while the consumer has credit (prefetch, flow, socket back-pressure).
  virtual bool can_take() const = 0;
  virtual void deliver(queue& from, queued_message&& m) = 0;
  // The queue is going away; the consumer must forget it. Called once, after
  // which the queue no longer lists the consumer.
  virtual void queue_deleted(queue& q) = 0;
  virtual bool exclusive() const = 0;
};

enum class durability : std::uint8_t { transient, durable };

struct queue_options {
  durability durable = durability::transient;
  bool exclusive = false;
  bool auto_delete = false;
  amqp::field_table arguments;
  // The connection that owns an exclusive queue; 0 for none.
  std::uint64_t owner = 0;
};

class queue {
 public:
  // storage may be null (no persistence, no paging: unit tests).
  queue(std::uint32_t id, std::string name, queue_options options, storage_context* storage = nullptr);
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;
  ~queue();

  std::uint32_t id() const { return id_; }
  std::uint64_t store_id() const { return store_id_; }
  const std::string& name() const { return name_; }
  const queue_options& options() const { return options_; }
  bool durable() const { return options_.durable == durability::durable; }
  // Durable, not exclusive, and the broker has a store: the queue and its persistent messages survive restarts.
  bool persisted() const { return persisted_; }

  // Ready messages, in memory or paged out.
  std::size_t ready_count() const { return ready_.size() + paged_count_; }
  std::size_t consumer_count() const { return consumers_.size(); }

  // Appends a message and hands ready messages to consumers that can take them.
  void enqueue(message_ref msg) {
    append(std::move(msg), false);
    dispatch();
  }
  // Appends without dispatching and returns the message's seq. With
  // `stored`, the caller writes the entry (store_id(), seq) to the durable
  // store, and must submit that before calling dispatch(), so that an ack
  // can never reach the store ahead of the entry it removes.
  std::uint64_t append(message_ref msg, bool stored);
  // Puts a delivered-but-unacked message back at its original position,
  // marked redelivered. Does not dispatch: a caller requeueing several
  // messages dispatches once after the last, so they go out in order.
  void requeue(queued_message&& m);
  // A delivered message was acked or dropped: forget it in the store too.
  // The store write waits in a buffer until flush_writes(), so that
  // settling many messages costs one submission.
  void settle(const queued_message& m);
  // Submits buffered store writes (delivery marks, removals) in one go.
  void flush_writes();
  // Removes and returns the head (basic.get), or nothing when empty.
  std::optional<queued_message> take();
  // Drops all ready messages; returns how many.
  std::size_t purge();
  // The queue is being deleted: drop its entries from the store.
  void erase_from_store();
  // Recovery: this queue is store_id in the store, which holds `count`
  // entries up to max_seq; they are loaded lazily.
  void restore(std::uint64_t store_id, std::uint64_t count, std::uint64_t max_seq);

  void add_consumer(consumer* c);
  // Returns false if c was not attached.
  bool remove_consumer(consumer* c);
  bool has_exclusive_consumer() const;
  // True once the queue has had a consumer and has none now: the moment an
  // auto-delete queue goes away.
  bool unused_after_consumers() const { return had_consumer_ && consumers_.empty(); }
  // Tells every consumer the queue is gone and detaches them.
  void detach_consumers();

  // Delivers ready messages round-robin to consumers with credit, until one runs out.
  void dispatch();
  // Loads paged-out messages into the window; `loaded` is what a load_entries read.
  void accept_loaded(std::vector<storage::loaded_entry>& loaded, storage::store& from);
  bool loading() const { return loading_; }
  // Nothing ready in memory, but messages wait on disk: a basic.get must
  // wait for them rather than answer get-empty.
  bool head_on_disk() const { return ready_.empty() && paged_count_ > 0; }
  // Runs `f` once the current page load has finished (or failed), or when
  // the queue is destroyed, whichever comes first.
  void when_loaded(std::function<void()> f);

 private:
  consumer* next_consumer_with_credit();
  // The message is past the window: make sure a store has it and count it as paged.
  void page_out(const message_ref& msg, std::uint64_t seq, bool stored);
  // Starts reading the next paged-out messages back when the window runs low.
  void refill();
  storage::store* page_store() const;
  void mark_delivered(queued_message& m);
  void wake_load_waiters();

  std::uint32_t id_;
  std::string name_;
  queue_options options_;
  storage_context* storage_;
  std::uint64_t store_id_ = 0;
  bool persisted_ = false;
  std::deque<queued_message> ready_;  // ascending seq
  std::uint64_t next_seq_ = 1;
  // Paged-out entries: every seq above last_in_memory_seq_ up to next_seq_ - 1.
  std::uint64_t paged_count_ = 0;
  std::uint64_t last_in_memory_seq_ = 0;
  bool loading_ = false;
  lifetime_token<queue> alive_{this};
  std::vector<storage::operation> writes_;  // for the durable store, see flush_writes()
  std::vector<std::function<void()>> load_waiters_;
  std::vector<consumer*> consumers_;
  std::size_t next_consumer_ = 0;
  bool had_consumer_ = false;
  bool dispatching_ = false;
  bool single_active_ = false;  // x-single-active-consumer: only consumers_.front() receives
};

}  // namespace roost
