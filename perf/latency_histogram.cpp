// Quantiles and merging for latency_histogram; recording is inline in the header.
#include "perf/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace roost::perf {

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t latency_histogram::lowest_of(std::size_t i, std::uint64_t& width) {
  if (i < 2 * sub_buckets) {
    width = 1;
    return i;
  }
  std::size_t shift = i / sub_buckets - 1;
  width = std::uint64_t{1} << shift;
  return static_cast<std::uint64_t>(i - shift * sub_buckets) << shift;
}

std::uint64_t latency_histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      std::uint64_t width = 0;
      std::uint64_t low = lowest_of(i, width);
      // The midpoint, but never above the largest value actually seen.
      return std::min(low + width / 2, max_);
    }
  }
  return max_;
}

}  // namespace roost::perf
