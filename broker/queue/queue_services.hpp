// What a queue reaches outside itself: the stores it persists to and pages
// into, how many ready messages it keeps in memory, and the timers that wake
// it for message TTL and x-expires. The broker makes one from its settings;
// each vhost hands a copy to every queue it creates. Broker thread only.
#pragma once

#include <cstddef>

#include "broker/model/storage_context.hpp"

namespace roost {

class deadline_scheduler;

struct queue_services {
  // Null: nothing is persisted and nothing pages (unit tests).
  storage_context* storage = nullptr;
  // Ready messages a queue keeps in memory; past this it pages the rest out.
  std::size_t window = 100000;
  // Null in unit tests, where expiry happens only when a queue is touched.
  deadline_scheduler* timers = nullptr;
};

}  // namespace roost
