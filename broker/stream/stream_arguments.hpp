// What a stream queue is declared with and what its consumers ask for,
// parsed and checked the way RabbitMQ 3.10–3.13 does (rabbit_stream_queue),
// with its reply texts.
//
// Plain data, no threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amqp/field_table.hpp"

namespace roost {

// RabbitMQ's default x-stream-max-segment-size-bytes.
constexpr std::int64_t default_segment_size_bytes = 500'000'000;

struct stream_arguments {
  std::optional<std::int64_t> max_length_bytes;  // x-max-length-bytes: retention by size
  std::optional<std::int64_t> max_age_ms;        // x-max-age: retention by age
  std::int64_t max_segment_size_bytes = default_segment_size_bytes;
};

// x-queue-type, when given: "classic", "quorum" or "stream"; anything else
// (or another field type) is refused with RabbitMQ's text. Roost's quorum
// queues are its classic queues, with a quorum queue's declare rules.
enum class queue_type : std::uint8_t { classic, quorum, stream };
queue_type parse_queue_type(const amqp::field_table& arguments, std::string_view what);
// RabbitMQ's module name for the type, as its texts print it ("rabbit_stream_queue").
std::string_view type_module(queue_type type);
// "classic", "quorum" or "stream".
std::string_view type_name(queue_type type);

// What RabbitMQ checks of a new queue of `type` beyond the values of its
// arguments, in its order ("queue 'st' in vhost '/'" is `what`): a
// server-named queue must be classic; an argument the type does not support
// is refused (the first in table order); a stream or quorum queue must be
// durable, not exclusive, not auto-delete.
void check_new_queue_of_type(queue_type type, const amqp::field_table& arguments, bool server_named, bool durable,
                             bool exclusive, bool auto_delete, std::string_view what);

// A new stream's x-arguments, values checked as RabbitMQ does.
stream_arguments parse_stream_arguments(const amqp::field_table& arguments, std::string_view what);

// "7D", "12h", "30m", "10s", "1Y", "1M" in milliseconds; nullopt when the
// text is not one of those forms.
std::optional<std::int64_t> parse_age(std::string_view text);

// Where a consumer starts (x-stream-offset).
struct stream_start {
  enum class kind : std::uint8_t { first, last, next, offset, timestamp_ms };
  kind from = kind::next;
  std::uint64_t offset = 0;       // kind::offset
  std::int64_t timestamp_ms = 0;  // kind::timestamp_ms (an AMQP timestamp, or now minus an interval)
};

// A stream consumer's arguments (basic.consume).
struct stream_consumer_options {
  stream_start start;
  bool start_given = false;  // x-stream-offset was there (an explicit start beats a tracked offset)
  // x-stream-filter: the filter values wanted; empty = no filter.
  std::vector<std::string> filter;
  // x-stream-match-unfiltered: also deliver messages without a filter value.
  bool match_unfiltered = false;
  // x-stream-automatic-offset-tracking: keep the last acked offset under the consumer tag.
  bool track_offsets = false;
};

// Throws 406 PRECONDITION_FAILED for values RabbitMQ refuses ("queue 'st'
// in vhost '/'" is `what`); now_ms turns an interval into a time.
stream_consumer_options parse_stream_consumer_options(const amqp::field_table& arguments, std::int64_t now_ms,
                                                      std::string_view what);

// The header a publisher sets to make a message filterable (RabbitMQ 3.13).
constexpr std::string_view filter_value_header = "x-stream-filter-value";
// The header every stream delivery carries: the message's offset.
constexpr std::string_view offset_header = "x-stream-offset";

}  // namespace roost
