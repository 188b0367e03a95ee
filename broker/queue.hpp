// A queue: ready messages in order, the consumers attached to it, and the
// round-robin dispatch between them.
//
// Lives on the broker thread and is changed only through its own methods.
// Unacknowledged deliveries are tracked by the channels that hold them, not
// here; they come back through requeue(), which puts each message back at its
// original position (by sequence number), as RabbitMQ does.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "broker/amqp/field_table.hpp"
#include "broker/message.hpp"

namespace roost {

class queue;

struct queued_message {
  message_ref msg;
  std::uint64_t seq = 0;
  bool redelivered = false;
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
  queue(std::uint32_t id, std::string name, queue_options options);
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;

  std::uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const queue_options& options() const { return options_; }
  bool durable() const { return options_.durable == durability::durable; }

  std::size_t ready_count() const { return ready_.size(); }
  std::size_t consumer_count() const { return consumers_.size(); }

  // Appends a message and hands ready messages to consumers that can take them.
  void enqueue(message_ref msg);
  // Puts a delivered-but-unacked message back at its original position, marked redelivered.
  void requeue(queued_message&& m);
  // Removes and returns the head (basic.get), or nothing when empty.
  std::optional<queued_message> take();
  // Drops all ready messages; returns how many.
  std::size_t purge();

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

 private:
  consumer* next_consumer_with_credit();

  std::uint32_t id_;
  std::string name_;
  queue_options options_;
  std::deque<queued_message> ready_;  // ascending seq
  std::uint64_t next_seq_ = 1;
  std::vector<consumer*> consumers_;
  std::size_t next_consumer_ = 0;
  bool had_consumer_ = false;
  bool dispatching_ = false;
};

}  // namespace roost
