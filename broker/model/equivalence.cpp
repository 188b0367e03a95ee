// Redeclaration checks, following rabbit_misc:assert_args_equivalence: a
// listed argument must be absent on both sides or equal in value and type
// class (all integer widths are one class).
#include "broker/model/equivalence.hpp"

#include <array>
#include <string>

#include "broker/protocol/errors.hpp"

namespace roost {

namespace {

constexpr std::array<std::string_view, 15> compared_queue_arguments = {
    "x-expires",          "x-message-ttl",         "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length",       "x-max-length-bytes",    "x-max-priority",         "x-overflow",
    "x-queue-mode",       "x-single-active-consumer", "x-queue-type",        "x-delivery-limit",
    "x-max-in-memory-length", "x-max-in-memory-bytes", "x-queue-master-locator"};

// A stream compares only what a stream has (RabbitMQ accepts any other
// argument on a stream's redeclare).
constexpr std::array<std::string_view, 4> compared_stream_arguments = {
    "x-queue-type", "x-max-age", "x-max-length-bytes", "x-stream-max-segment-size-bytes"};

bool same_value(const amqp::field_value& a, const amqp::field_value& b) {
  std::int64_t ia = 0, ib = 0;
  if (a.as_integer(ia) && b.as_integer(ib)) return ia == ib;
  const std::string* sa = a.as_string();
  const std::string* sb = b.as_string();
  if (sa && sb) return *sa == *sb;
  return a == b;
}

std::string value_text(const amqp::field_value& v) {
  std::int64_t i = 0;
  if (v.as_integer(i)) return std::to_string(i);
  if (auto* s = v.as_string()) return *s;
  if (auto* b = v.get_if<bool>()) return *b ? "true" : "false";
  double d = 0;
  if (v.as_number(d)) return std::to_string(d);
  return "...";
}

// "the value '10' of type 'signedint'" when only one side has the argument,
// "'10'" when both do: RabbitMQ's two phrasings.
std::string show(const amqp::field_value* v, bool with_type) {
  if (v == nullptr) return "none";
  if (!with_type) return "'" + value_text(*v) + "'";
  return "the value '" + value_text(*v) + "' of type '" + std::string(amqp::type_name(*v)) + "'";
}

void check_arguments(std::string_view what, const amqp::field_table& current, const amqp::field_table& requested,
                     std::string_view key) {
  const amqp::field_value* c = current.find(key);
  const amqp::field_value* r = requested.find(key);
  if (c == nullptr && r == nullptr) return;
  if (c != nullptr && r != nullptr && same_value(*c, *r)) return;
  bool with_type = c == nullptr || r == nullptr;
  throw_precondition_failed("inequivalent arg '" + std::string(key) + "' for " + std::string(what) + ": received " +
                            show(r, with_type) + " but current is " + show(c, with_type));
}

}  // namespace

void check_text_equivalence(std::string_view what, std::string_view arg, std::string_view current,
                            std::string_view requested) {
  if (current == requested) return;
  throw_precondition_failed("inequivalent arg '" + std::string(arg) + "' for " + std::string(what) + ": received '" +
                            std::string(requested) + "' but current is '" + std::string(current) + "'");
}

void check_flag_equivalence(std::string_view what, std::string_view arg, bool current, bool requested) {
  check_text_equivalence(what, arg, current ? "true" : "false", requested ? "true" : "false");
}

void check_queue_arguments(std::string_view what, const amqp::field_table& current, const amqp::field_table& requested,
                           bool stream) {
  if (stream) {
    for (std::string_view key : compared_stream_arguments) check_arguments(what, current, requested, key);
    return;
  }
  for (std::string_view key : compared_queue_arguments) check_arguments(what, current, requested, key);
}

void check_exchange_arguments(std::string_view what, const amqp::field_table& current,
                              const amqp::field_table& requested) {
  check_arguments(what, current, requested, "alternate-exchange");
}

}  // namespace roost
