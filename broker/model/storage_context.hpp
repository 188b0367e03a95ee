// What the broker core needs to reach the stores: the durable store (null
// when running without one, as unit tests do), the scratch store transient
// messages are paged out to, and the id counters both stores share.
//
// Owned by the broker; vhosts and queues hold a pointer. Broker thread only.
#pragma once

#include <cstdint>

#include "storage/store.hpp"

namespace roost {

struct storage_context {
  storage::store* durable = nullptr;
  storage::store* scratch = nullptr;
  std::uint64_t next_queue_id = 1;
  std::uint64_t next_message_id = 1;
};

}  // namespace roost
