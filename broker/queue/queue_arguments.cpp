// Argument checks in rabbit_amqqueue's order and wording: the detail after
// the colon is the Erlang term RabbitMQ prints ({value_negative,-1},
// "expected integer, got longstr", ...), so clients matching on texts see
// the same thing.
#include "broker/queue/queue_arguments.hpp"

#include <charconv>
#include <string>

#include "broker/protocol/errors.hpp"
#include "broker/queue/argument_checker.hpp"

namespace roost {

namespace {

using amqp::type_name;

// The dead-letter arguments have their own phrasing for a wrong type in RabbitMQ.
std::optional<std::string> dead_letter_string(const argument_checker& check, std::string_view key) {
  const amqp::field_value* v = check.find(key);
  if (v == nullptr) return std::nullopt;
  const std::string* s = v->get_if<std::string>();
  if (s == nullptr)
    throw_precondition_failed("invalid type '" + std::string(type_name(*v)) + "' for arg '" + std::string(key) +
                              "' in " + std::string(check.what()));
  return *s;
}

std::optional<std::string> dead_letter_routing_key(const argument_checker& check, bool has_exchange) {
  auto key = dead_letter_string(check, "x-dead-letter-routing-key");
  if (key && !has_exchange) check.fail("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined");
  return key;
}

overflow_mode overflow(const argument_checker& check) {
  const amqp::field_value* v = check.find("x-overflow");
  if (v == nullptr) return overflow_mode::drop_head;
  const std::string* s = v->get_if<std::string>();
  if (s == nullptr) check.fail("x-overflow", "{unacceptable_type," + std::string(type_name(*v)) + "}");
  if (*s == "drop-head") return overflow_mode::drop_head;
  if (*s == "reject-publish") return overflow_mode::reject_publish;
  if (*s == "reject-publish-dlx") return overflow_mode::reject_publish_dlx;
  check.fail("x-overflow", "invalid_overflow");
}

// RabbitMQ's check_max_priority_arg: a non-negative integer up to 255.
std::optional<std::int64_t> max_priority(const argument_checker& check) {
  constexpr std::int64_t most = 255;
  auto n = check.non_negative("x-max-priority");
  if (n && *n > most) check.fail("x-max-priority", "{max_value_exceeded," + std::to_string(*n) + "}");
  return n;
}

bool single_active_consumer(const argument_checker& check) {
  const amqp::field_value* v = check.find("x-single-active-consumer");
  if (v == nullptr) return false;
  const bool* on = v->get_if<bool>();
  if (on == nullptr) check.fail("x-single-active-consumer", "{unacceptable_type," + std::string(type_name(*v)) + "}");
  return *on;
}

}  // namespace

queue_arguments parse_queue_arguments(const amqp::field_table& arguments, std::string_view what) {
  argument_checker check(arguments, what);
  queue_arguments out;
  out.expires_ms = check.positive("x-expires");
  out.message_ttl_ms = check.non_negative("x-message-ttl");
  out.dead_letter_exchange = dead_letter_string(check, "x-dead-letter-exchange");
  out.dead_letter_routing_key = dead_letter_routing_key(check, out.dead_letter_exchange.has_value());
  out.max_length = check.non_negative("x-max-length");
  out.max_length_bytes = check.non_negative("x-max-length-bytes");
  out.max_priority = max_priority(check);
  out.overflow = overflow(check);
  out.delivery_limit = check.non_negative("x-delivery-limit");
  out.single_active_consumer = single_active_consumer(check);
  return out;
}

std::int64_t parse_expiration(std::string_view text) {
  auto fail = [&](std::string_view detail) -> std::int64_t {
    throw_precondition_failed("invalid expiration '" + std::string(text) + "': " + std::string(detail));
  };
  // Erlang's string:to_integer: an optional sign, then digits; anything after is "leftover".
  const char* begin = text.data();
  const char* end = begin + text.size();
  std::int64_t value = 0;
  const char* digits = begin;
  if (digits != end && (*digits == '+' || *digits == '-')) ++digits;
  if (digits == end || *digits < '0' || *digits > '9') return fail("no_integer");
  auto [ptr, ec] = std::from_chars(begin + (*begin == '+' ? 1 : 0), end, value);
  if (ec != std::errc()) return fail("no_integer");
  if (ptr != end) return fail("{leftover_string,\"" + std::string(ptr, end) + "\"}");
  if (value < 0) return fail("{value_negative," + std::to_string(value) + "}");
  return value;
}

}  // namespace roost
