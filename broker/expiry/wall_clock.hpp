// Wall-clock milliseconds since the epoch: the time base of message expiry,
// which is stored with queue entries and must mean the same after a restart.
#pragma once

#include <chrono>
#include <cstdint>

namespace roost {

inline std::int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace roost
