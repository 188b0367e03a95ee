#include "broker/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace roost::log {

namespace {
std::atomic<level> current{level::info};

std::string_view name_of(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warning: return "warning";
    case level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(level l) { current = l; }
bool enabled(level l) { return l >= current.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, level& out) {
  for (level l : {level::debug, level::info, level::warning, level::error}) {
    if (text == name_of(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void write(level l, std::string_view line) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  std::string out(stamp);
  out.append(name_of(l)).append(" ").append(line).append("\n");
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace roost::log
