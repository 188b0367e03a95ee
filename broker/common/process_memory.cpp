#include "broker/common/process_memory.hpp"

#include <unistd.h>

#include <cstdio>

namespace roost {

std::uint64_t resident_memory_bytes() {
  // statm: total pages, then resident pages. One short read, a few microseconds.
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long total = 0, resident = 0;
  int read = std::fscanf(f, "%llu %llu", &total, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t physical_memory_bytes() {
  return static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace roost
