// RabbitMQ's checks, in its order and words: rabbit_amqqueue's declare_args
// (x-queue-type, x-max-age, x-stream-max-segment-size-bytes), the property
// checks of rabbit_stream_queue:declare, and its consumer arguments.
#include "broker/stream/stream_arguments.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "broker/protocol/errors.hpp"
#include "broker/queue/argument_checker.hpp"

namespace roost {

namespace {

constexpr std::int64_t second_ms = 1000;
constexpr std::int64_t day_ms = 24 * 3600 * second_ms;

std::optional<std::int64_t> unit_ms(std::string_view unit) {
  if (unit == "Y") return 365 * day_ms;
  if (unit == "M") return 30 * day_ms;
  if (unit == "D") return day_ms;
  if (unit == "h") return 3600 * second_ms;
  if (unit == "m") return 60 * second_ms;
  if (unit == "s") return second_ms;
  return std::nullopt;
}

// rabbit_stream_queue's ceiling for a segment.
constexpr std::int64_t max_segment_size_bytes = 3'000'000'000;

// The x-arguments each type refuses on a new queue (rabbit_queue_type's
// capabilities, as RabbitMQ 3.10 applies them).
constexpr std::string_view stream_unsupported[] = {
    "x-message-ttl",          "x-expires",          "x-dead-letter-exchange",      "x-dead-letter-routing-key",
    "x-max-priority",         "x-overflow",         "x-single-active-consumer",    "x-max-length",
    "x-queue-mode",           "x-delivery-limit",   "x-quorum-initial-group-size", "x-queue-master-locator",
    "x-max-in-memory-length", "x-max-in-memory-bytes"};
constexpr std::string_view stream_only[] = {"x-max-age", "x-stream-max-segment-size-bytes"};

template <std::size_t N>
bool listed(const std::string_view (&keys)[N], std::string_view key) {
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

std::optional<std::int64_t> max_age(const argument_checker& check) {
  const amqp::field_value* v = check.find("x-max-age");
  if (v == nullptr) return std::nullopt;
  const std::string* text = v->as_string();
  if (text == nullptr) check.fail("x-max-age", "{unacceptable_type," + std::string(amqp::type_name(*v)) + "}");
  auto ms = parse_age(*text);
  if (!ms) check.fail("x-max-age", "invalid_max_age");
  return ms;
}

std::vector<std::string> filter_values(const amqp::field_value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (const std::string* one = v->as_string()) {
    out.push_back(*one);
    return out;
  }
  if (const amqp::field_array* many = v->get_if<amqp::field_array>()) {
    for (const amqp::field_value& item : *many)
      if (const std::string* s = item.as_string()) out.push_back(*s);
    if (out.size() == many->size()) return out;
  }
  throw_precondition_failed("Invalid x-stream-filter argument: expected a string or an array of strings");
}

// RabbitMQ 3.10 refuses "10" or "0s" with this text and crashes (541) on
// other strings and types; Roost gives them all the 406.
[[noreturn]] void throw_invalid_offset(const amqp::field_value& v, std::string_view what) {
  std::string term = std::string(amqp::type_name(v));
  if (const std::string* text = v.as_string()) term += ",<<\"" + *text + "\">>";
  throw_precondition_failed("invalid arg 'x-stream-offset' for " + std::string(what) +
                            ": {invalid_stream_offset_arg,{" + term + "}}");
}

stream_start start_of(const amqp::field_value& v, std::int64_t now_ms, std::string_view what) {
  stream_start start;
  if (const std::string* text = v.as_string()) {
    if (*text == "first") start.from = stream_start::kind::first;
    else if (*text == "last") start.from = stream_start::kind::last;
    else if (*text == "next") start.from = stream_start::kind::next;
    else if (auto interval = parse_age(*text)) {
      start.from = stream_start::kind::timestamp_ms;
      start.timestamp_ms = now_ms - *interval;
    } else {
      throw_invalid_offset(v, what);
    }
    return start;
  }
  if (const amqp::timestamp_value* at = v.get_if<amqp::timestamp_value>()) {
    start.from = stream_start::kind::timestamp_ms;
    start.timestamp_ms = static_cast<std::int64_t>(at->seconds) * second_ms;
    return start;
  }
  std::int64_t n = 0;
  if (v.as_integer(n)) {
    start.from = stream_start::kind::offset;
    start.offset = n < 0 ? 0 : static_cast<std::uint64_t>(n);  // below the first: from the first
    return start;
  }
  throw_invalid_offset(v, what);
}

}  // namespace

std::optional<std::int64_t> parse_age(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || ec != std::errc() || value <= 0) return std::nullopt;
  auto unit = unit_ms(text.substr(digits));
  if (!unit || value > INT64_MAX / *unit) return std::nullopt;
  return value * *unit;
}

queue_type parse_queue_type(const amqp::field_table& arguments, std::string_view what) {
  const amqp::field_value* v = arguments.find("x-queue-type");
  if (v == nullptr) return queue_type::classic;
  argument_checker check(arguments, what);
  const std::string* type = v->as_string();
  if (type == nullptr) check.fail("x-queue-type", "{unacceptable_type," + std::string(amqp::type_name(*v)) + "}");
  if (*type == "classic") return queue_type::classic;
  if (*type == "quorum") return queue_type::quorum;
  if (*type == "stream") return queue_type::stream;
  check.fail("x-queue-type", "\"unsupported queue type '" + *type + "'\"");
}

std::string_view type_module(queue_type type) {
  switch (type) {
    case queue_type::classic:
      return "rabbit_classic_queue";
    case queue_type::quorum:
      return "rabbit_quorum_queue";
    case queue_type::stream:
      return "rabbit_stream_queue";
  }
  return "rabbit_classic_queue";
}

std::string_view type_name(queue_type type) {
  std::string_view module = type_module(type);
  module.remove_prefix(std::string_view("rabbit_").size());
  return module.substr(0, module.find('_'));
}

void check_new_queue_of_type(queue_type type, const amqp::field_table& arguments, bool server_named, bool durable,
                             bool exclusive, bool auto_delete, std::string_view what) {
  if (server_named && type != queue_type::classic)
    throw_precondition_failed("Cannot declare a server-named queue for type " + std::string(type_module(type)));
  for (const amqp::field_entry& e : arguments.entries)
    if (type == queue_type::stream ? listed(stream_unsupported, e.name) : listed(stream_only, e.name))
      throw_precondition_failed("invalid arg '" + e.name + "' for " + std::string(what) + " of queue type " +
                                std::string(type_module(type)));
  if (type == queue_type::classic) return;
  auto refuse = [&](std::string_view property) {
    throw_precondition_failed("invalid property '" + std::string(property) + "' for " + std::string(what));
  };
  if (auto_delete) refuse("auto-delete");
  if (exclusive) refuse("exclusive-owner");
  if (!durable) refuse("non-durable");
}

stream_arguments parse_stream_arguments(const amqp::field_table& arguments, std::string_view what) {
  argument_checker check(arguments, what);
  stream_arguments out;
  out.max_length_bytes = check.non_negative("x-max-length-bytes");
  out.max_age_ms = max_age(check);
  if (auto size = check.non_negative("x-stream-max-segment-size-bytes")) {
    if (*size > max_segment_size_bytes)
      throw_precondition_failed("Exceeded max value for x-stream-max-segment-size-bytes");
    out.max_segment_size_bytes = *size;
  }
  return out;
}

stream_consumer_options parse_stream_consumer_options(const amqp::field_table& arguments, std::int64_t now_ms,
                                                      std::string_view what) {
  stream_consumer_options out;
  if (const amqp::field_value* v = arguments.find(offset_header)) {
    out.start = start_of(*v, now_ms, what);
    out.start_given = true;
  }
  out.filter = filter_values(arguments.find("x-stream-filter"));
  if (const amqp::field_value* v = arguments.find("x-stream-match-unfiltered"))
    if (const bool* on = v->get_if<bool>()) out.match_unfiltered = *on;
  if (const amqp::field_value* v = arguments.find("x-stream-automatic-offset-tracking"))
    if (const bool* on = v->get_if<bool>()) out.track_offsets = *on;
  return out;
}

}  // namespace roost
