// Dead-lettering: what happens to a message that leaves a queue without
// being consumed (rejected or nacked without requeue, expired, dropped by a
// length limit, past its delivery limit).
//
// With x-dead-letter-exchange the message is republished there with
// RabbitMQ's x-death headers (x_death.hpp); without it, or when the
// exchange does not exist, it is dropped. Moving a persistent message is
// atomic: the source entry's removal and the new message with its entries
// go to the store as one submission, which the store never splits across
// transactions, so a crash leaves the message in exactly one of the places.
//
// One per vhost; broker thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/dead_letter/x_death.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

class vhost;

class dead_letter_router {
 public:
  dead_letter_router(vhost& owner, storage_context* storage) : vhost_(owner), storage_(storage) {}

  // Takes m out of `from` for `reason`: dead-letters it if the queue has a
  // dead-letter exchange, drops it otherwise. The caller must not hold m in
  // from's ready list any more.
  void dead_letter(queue& from, queued_message&& m, death_reason reason);

  // Messages dropped because dead-lettering them would have cycled.
  std::uint64_t cycles_dropped() const { return cycles_dropped_; }

 private:
  // The queues the dead-lettered message goes to, cycles removed.
  std::vector<queue*> route(const dead_lettered& dl, death_reason reason);

  vhost& vhost_;
  storage_context* storage_;
  std::vector<queue*> routed_;  // scratch for vhost::route
  std::uint64_t cycles_dropped_ = 0;
};

}  // namespace roost
