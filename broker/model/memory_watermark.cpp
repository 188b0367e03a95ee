#include "broker/model/memory_watermark.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace roost {

namespace {

struct unit {
  std::string_view suffix;
  std::uint64_t multiplier;
};

// RabbitMQ's information units: a binary prefix unless the unit ends in a
// plain "B" (kB, MB, GB, TB are SI).
constexpr std::uint64_t kib = 1024;
constexpr std::array units{
    unit{"k", kib},           unit{"K", kib},           unit{"kiB", kib},         unit{"KiB", kib},
    unit{"M", kib * kib},     unit{"MiB", kib * kib},   unit{"G", kib * kib * kib}, unit{"GiB", kib * kib * kib},
    unit{"T", kib * kib * kib * kib}, unit{"TiB", kib * kib * kib * kib},
    unit{"kB", 1000},         unit{"KB", 1000},         unit{"MB", 1000'000},     unit{"GB", 1000'000'000},
    unit{"TB", 1000'000'000'000}};

std::optional<std::uint64_t> parse_whole(std::string_view digits) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return n;
}

std::optional<memory_watermark> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view suffix = text.substr(digits);
  auto found = std::find_if(units.begin(), units.end(), [&](const unit& u) { return u.suffix == suffix; });
  if (found == units.end()) return std::nullopt;
  auto n = parse_whole(text.substr(0, digits));
  if (!n || *n > UINT64_MAX / found->multiplier) return std::nullopt;
  return memory_watermark{memory_watermark::kind::bytes, 0, *n * found->multiplier};
}

}  // namespace

std::uint64_t memory_watermark::limit(std::uint64_t total_ram) const {
  if (how == kind::bytes) return std::min(bytes, total_ram);
  return static_cast<std::uint64_t>(std::floor(fraction * static_cast<double>(total_ram)));
}

std::optional<memory_watermark> parse_memory_watermark(std::string_view text) {
  if (auto whole = parse_whole(text)) {
    if (*whole <= 1) return memory_watermark{memory_watermark::kind::fraction_of_ram, double(*whole), 0};
    return memory_watermark{memory_watermark::kind::bytes, 0, *whole};
  }
  double fraction = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fraction);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!(fraction >= 0 && fraction <= 1)) return std::nullopt;
    return memory_watermark{memory_watermark::kind::fraction_of_ram, fraction, 0};
  }
  return parse_size(text);
}

}  // namespace roost
