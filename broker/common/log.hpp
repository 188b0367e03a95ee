// A minimal leveled logger writing one line per event to stderr.
//
// The broker thread is the only writer in practice; stderr is unbuffered
// and each line goes out in one write, so lines from the storage thread do
// not interleave mid-line either.
#pragma once

#include <string_view>

namespace roost::log {

enum class level { debug, info, warning, error };

void set_level(level l);
bool enabled(level l);
// Parses "debug", "info", "warning", "error"; false for anything else.
bool parse_level(std::string_view text, level& out);
void write(level l, std::string_view line);

inline void debug(std::string_view line) { if (enabled(level::debug)) write(level::debug, line); }
inline void info(std::string_view line) { if (enabled(level::info)) write(level::info, line); }
inline void warning(std::string_view line) { if (enabled(level::warning)) write(level::warning, line); }
inline void error(std::string_view line) { write(level::error, line); }

}  // namespace roost::log
