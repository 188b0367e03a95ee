// A compact log-linear latency histogram (HdrHistogram's layout, simplified).
//
// Consumers record one end-to-end latency per message, millions per second,
// so recording must be a couple of instructions and memory must not grow with
// the message count. Values below 128 ns get a bucket each; above that every
// power of two is split into 64 linear sub-buckets, so any reported quantile
// is within 1/64 (1.6 %) of the true value. ~2,500 counters cover 0 ns to
// hours; each consumer owns one histogram and they are merged at the end.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace roost::perf {

class latency_histogram {
 public:
  void record(std::uint64_t ns) {
    if (ns > max_value) ns = max_value;
    ++counts_[index_of(ns)];
    ++count_;
    if (ns > max_) max_ = ns;
  }
  void merge(const latency_histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The value at quantile q (0..1), as its bucket's midpoint; 0 when empty.
  std::uint64_t quantile(double q) const;

 private:
  static constexpr int linear_bits = 7;  // values < 2^7 are exact
  static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << (linear_bits - 1);
  static constexpr int max_bits = 44;    // ~4.9 hours in ns; larger values are clamped
  static constexpr std::uint64_t max_value = (std::uint64_t{1} << max_bits) - 1;
  static constexpr std::size_t bucket_count = (max_bits - linear_bits + 2) * sub_buckets;

  static std::size_t index_of(std::uint64_t v) {
    int shift = std::bit_width(v) - linear_bits;
    if (shift <= 0) return static_cast<std::size_t>(v);
    return static_cast<std::size_t>(shift) * sub_buckets + (v >> shift);
  }
  // Smallest value that lands in bucket i, and the bucket's width.
  static std::uint64_t lowest_of(std::size_t i, std::uint64_t& width);

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace roost::perf
