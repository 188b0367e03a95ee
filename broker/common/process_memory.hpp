// What the memory alarm measures: this process's resident set (RabbitMQ's
// default vm_memory_calculation_strategy, rss) and the machine's RAM.
// Linux only: /proc and sysconf.
#pragma once

#include <cstdint>

namespace roost {

// Resident bytes of this process (/proc/self/statm); 0 if it cannot be read.
std::uint64_t resident_memory_bytes();
// The machine's physical memory.
std::uint64_t physical_memory_bytes();

}  // namespace roost
