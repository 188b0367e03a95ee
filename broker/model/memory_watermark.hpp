// The memory high watermark, as RabbitMQ's vm_memory_high_watermark: either
// a fraction of the machine's RAM (relative, default 0.4) or a size in
// bytes (absolute). Past it the memory alarm blocks publishers. Pure value
// type: reading the machine's memory is broker/common/process_memory.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace roost {

struct memory_watermark {
  enum class kind { fraction_of_ram, bytes };
  kind how = kind::fraction_of_ram;
  double fraction = 0.4;
  std::uint64_t bytes = 0;

  // The limit in bytes on a machine with `total_ram` bytes. RabbitMQ caps
  // an absolute watermark at the machine's RAM, and so does this.
  std::uint64_t limit(std::uint64_t total_ram) const;
};

// "0.4" (a number up to 1: a fraction of RAM), "2147483648" (a whole number
// above 1: bytes), or a size with RabbitMQ's units: "2GiB", "512MiB", "2G",
// "100k" (powers of 1024), "2GB", "500MB", "100kB" (powers of 1000).
// Nothing when the text is none of these.
std::optional<memory_watermark> parse_memory_watermark(std::string_view text);

}  // namespace roost
