// Gives freed heap memory back to the operating system once the broker goes
// quiet.
//
// glibc keeps freed chunks inside its arenas: after a burst (a million
// messages queued and paged out, a deep queue drained) the process would keep
// its peak RSS for good, because live blocks pin the pages around them.
// malloc_trim returns every whole free page, but it walks the free lists
// under the arena lock (hundreds of milliseconds on a fragmented heap), so it
// must never run while traffic flows: it runs once per quiet period, on the
// first tick that sees no message activity since the previous one.
#pragma once

#include <cstdint>

namespace roost {

class heap_releaser {
 public:
  // activity: any counter that moves while the broker does work. Returns
  // true when it trimmed.
  bool tick(std::uint64_t activity);

 private:
  std::uint64_t last_activity_ = 0;
  bool trimmed_ = true;  // nothing to give back before the first burst
};

}  // namespace roost
