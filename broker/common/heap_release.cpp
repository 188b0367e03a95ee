#include "broker/common/heap_release.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace roost {

bool heap_releaser::tick(std::uint64_t activity) {
  if (activity != last_activity_) {
    last_activity_ = activity;
    trimmed_ = false;
    return false;
  }
  if (trimmed_) return false;
  trimmed_ = true;
#if defined(__GLIBC__)
  ::malloc_trim(0);
  return true;
#else
  return false;
#endif
}

}  // namespace roost
