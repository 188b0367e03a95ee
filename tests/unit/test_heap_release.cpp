// Heap release runs once per quiet period, never while activity moves.
#include <doctest/doctest.h>

#include "broker/common/heap_release.hpp"

using namespace roost;

TEST_CASE("the heap is trimmed once after activity stops, not during it") {
  heap_releaser h;
  CHECK_FALSE(h.tick(0));  // quiet since start: nothing was freed
  CHECK_FALSE(h.tick(5));  // busy
  CHECK_FALSE(h.tick(9));  // still busy
#if defined(__GLIBC__)
  CHECK(h.tick(9));  // quiet: trim
#else
  CHECK_FALSE(h.tick(9));
#endif
  CHECK_FALSE(h.tick(9));   // still quiet: once is enough
  CHECK_FALSE(h.tick(10));  // busy again
#if defined(__GLIBC__)
  CHECK(h.tick(10));
#endif
}
