// Bounded PCRE2 searches: see name_pattern.hpp. No JIT: the interpreter is
// fast enough for names of 255 bytes, and its limits are the bound.
#include "broker/common/name_pattern.hpp"

#include <cstdint>
#include <new>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace roost {

namespace {

// The bounds. A call of PCRE2's internal match() costs about 10 ns, so
// 100,000 of them are about a millisecond: a catastrophic pattern on a
// 33-byte name stops there rather than after 2^33 steps. Ordinary patterns
// on 255-byte names need far fewer: anchored prefixes, ".*" and lookahead
// a handful, a repeated group of classes over a whole name some 6,000.
// The depth (nested backtracking frames) of a group repeated once per byte
// is two frames a byte, about 500 for a 255-byte name; 10,000 keeps the
// frames' memory under a few MB whatever the pattern.
constexpr std::uint32_t match_limit = 100'000;
constexpr std::uint32_t depth_limit = 10'000;

// A default string_view has no data; PCRE2 wants a pointer even for nothing.
PCRE2_SPTR bytes(std::string_view text) {
  return reinterpret_cast<PCRE2_SPTR>(text.empty() ? "" : text.data());
}

std::string error_text(int code) {
  PCRE2_UCHAR buffer[256];
  int length = pcre2_get_error_message(code, buffer, sizeof buffer);
  if (length < 0) return "error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(length));
}

}  // namespace

// The match context and match data are made once per pattern, not per
// search: searches run one at a time on the broker thread, and PCRE2 keeps
// its backtracking frames in the match data between searches.
struct name_pattern::compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_match_data* data = nullptr;

  compiled() = default;
  compiled(const compiled&) = delete;
  compiled& operator=(const compiled&) = delete;
  ~compiled() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

pattern_error::pattern_error(std::string message, std::size_t offset)
    : std::invalid_argument(message + " at offset " + std::to_string(offset)),
      message_(std::move(message)),
      offset_(offset) {}

name_pattern::name_pattern(std::string_view source) {
  auto made = std::make_shared<compiled>();
  int code = 0;
  PCRE2_SIZE offset = 0;
  made->code = pcre2_compile(bytes(source), source.size(), 0, &code, &offset, nullptr);
  if (made->code == nullptr) throw pattern_error(error_text(code), offset);
  made->context = pcre2_match_context_create(nullptr);
  // Only whether it matches is asked: one pair of offsets is enough.
  made->data = pcre2_match_data_create(1, nullptr);
  if (made->context == nullptr || made->data == nullptr) throw std::bad_alloc();
  pcre2_set_match_limit(made->context, match_limit);
  pcre2_set_depth_limit(made->context, depth_limit);
  compiled_ = std::move(made);
}

bool name_pattern::search(std::string_view name) const {
  // 0 is a match whose offsets did not fit; every error (the bounds, a
  // pattern that turned UTF mode on meeting a name that is not UTF-8) is no match.
  return pcre2_match(compiled_->code, bytes(name), name.size(), 0, 0, compiled_->data, compiled_->context) >= 0;
}

}  // namespace roost
