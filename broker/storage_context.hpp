// What the broker core needs to reach the stores: the durable store (null
// when running without one, as unit tests do), the scratch store transient
// messages are paged out to, and the id counters both stores share.
//
// Owned by the broker; vhosts and queues hold a pointer. Broker thread only.
#pragma once

#include <cstdint>

#include "storage/store.hpp"

namespace roost {

class deadline_scheduler;

struct storage_context {
  storage::store* durable = nullptr;
  storage::store* scratch = nullptr;
  // Ready messages a queue keeps in memory; past this it pages the rest out.
  std::size_t queue_window = 100000;
  std::uint64_t next_queue_id = 1;
  std::uint64_t next_message_id = 1;
  // Wake-ups for message TTL and x-expires; null in unit tests, where
  // expiry happens only when a queue is touched.
  deadline_scheduler* timers = nullptr;
};

}  // namespace roost
