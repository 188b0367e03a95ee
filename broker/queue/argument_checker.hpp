// Reading x-arguments the way rabbit_amqqueue checks them: a wrong type or
// value is 406 PRECONDITION_FAILED "invalid arg '<key>' for <what>: <detail>",
// the detail being the Erlang term RabbitMQ prints. Shared by queues and streams.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "amqp/field_table.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

class argument_checker {
 public:
  argument_checker(const amqp::field_table& arguments, std::string_view what) : arguments_(arguments), what_(what) {}

  [[noreturn]] void fail(std::string_view key, std::string_view detail) const {
    throw_precondition_failed("invalid arg '" + std::string(key) + "' for " + std::string(what_) + ": " +
                              std::string(detail));
  }

  std::optional<std::int64_t> integer(std::string_view key) const {
    const amqp::field_value* v = arguments_.find(key);
    if (v == nullptr) return std::nullopt;
    std::int64_t n = 0;
    if (!v->as_integer(n)) fail(key, "\"expected integer, got " + std::string(amqp::type_name(*v)) + "\"");
    return n;
  }

  std::optional<std::int64_t> non_negative(std::string_view key) const {
    auto n = integer(key);
    if (n && *n < 0) fail(key, "{value_negative," + std::to_string(*n) + "}");
    return n;
  }

  std::optional<std::int64_t> positive(std::string_view key) const {
    auto n = non_negative(key);
    if (n && *n == 0) fail(key, "{value_zero,0}");
    return n;
  }

  const amqp::field_value* find(std::string_view key) const { return arguments_.find(key); }
  std::string_view what() const { return what_; }

 private:
  const amqp::field_table& arguments_;
  std::string_view what_;
};

}  // namespace roost
