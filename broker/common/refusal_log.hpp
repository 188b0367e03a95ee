// Warnings about refused connections, at most one line a second. A flood of
// connection attempts is refused one by one; a line each would turn the
// flood into a flood of stderr writes on the broker thread. The first
// refusal is logged at once; later ones within the second are counted and
// the count goes into the next line. Lives on the broker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "broker/common/log.hpp"

namespace roost {

class refusal_log {
 public:
  void refused(const std::string& line, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (logged_once_ && now - last_line_ < std::chrono::seconds(1)) {
      ++unlogged_;
      return;
    }
    if (unlogged_ == 0) log::warning(line);
    else log::warning(line + " (and " + std::to_string(unlogged_) + " more refused since the last line)");
    logged_once_ = true;
    last_line_ = now;
    unlogged_ = 0;
  }

 private:
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_line_{};
  std::uint64_t unlogged_ = 0;
};

}  // namespace roost
