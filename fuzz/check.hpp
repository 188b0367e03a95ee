// An invariant a fuzz target checks: when it fails, the input is a finding.
//
// libFuzzer treats an abort as a crash and saves the input that caused it,
// so a broken round trip or a disagreement between two decoders is reported
// exactly like a sanitizer error. Not assert(): it must hold in every build.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace roost::fuzz {

inline void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace roost::fuzz
