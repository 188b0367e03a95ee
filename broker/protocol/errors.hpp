// The two exceptions that carry AMQP errors out of a handler.
//
// Handlers throw; exactly one place per level catches: the connection's
// frame dispatch turns a channel_error into channel.close on that channel and
// a connection_error into connection.close. The reply text starts with the
// code's name, as RabbitMQ writes it: "NOT_FOUND - no queue 'x' in vhost '/'".
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "amqp/reply_code.hpp"

namespace roost {

class channel_error : public std::runtime_error {
 public:
  channel_error(amqp::channel_reply code, std::string_view detail)
      : std::runtime_error(std::string(amqp::reply_name(code)) + " - " + std::string(detail)), code_(code) {}
  amqp::channel_reply code() const { return code_; }

 private:
  amqp::channel_reply code_;
};

class connection_error : public std::runtime_error {
 public:
  connection_error(amqp::connection_reply code, std::string_view detail)
      : std::runtime_error(std::string(amqp::reply_name(code)) + " - " + std::string(detail)), code_(code) {}
  // blamed_method: the method to name in connection.close instead of the
  // frame that arrived (a broken content sequence blames its basic.publish).
  connection_error(amqp::connection_reply code, std::string_view detail, std::uint32_t blamed_method)
      : connection_error(code, detail) {
    blamed_method_ = blamed_method;
  }
  amqp::connection_reply code() const { return code_; }
  std::optional<std::uint32_t> blamed_method() const { return blamed_method_; }

 private:
  amqp::connection_reply code_;
  std::optional<std::uint32_t> blamed_method_;
};

// "'name' in vhost '/'", the way RabbitMQ names a resource in reply texts.
inline std::string describe(std::string_view kind, std::string_view name, std::string_view vhost) {
  std::string s;
  s.reserve(kind.size() + name.size() + vhost.size() + 16);
  s.append(kind).append(" '").append(name).append("' in vhost '").append(vhost).append("'");
  return s;
}

[[noreturn]] inline void throw_not_found(std::string_view kind, std::string_view name, std::string_view vhost) {
  throw channel_error(amqp::channel_reply::not_found, "no " + describe(kind, name, vhost));
}

[[noreturn]] inline void throw_precondition_failed(std::string_view detail) {
  throw channel_error(amqp::channel_reply::precondition_failed, detail);
}

[[noreturn]] inline void throw_access_refused(std::string_view detail) {
  throw channel_error(amqp::channel_reply::access_refused, detail);
}

}  // namespace roost

namespace roost {

// A method with no handler where it arrived: 540 NOT_IMPLEMENTED for ids no
// AMQP 0-9-1 method has, 503 COMMAND_INVALID for a real method sent where it
// makes no sense (basic.deliver from a client, say).
[[noreturn]] void throw_unexpected_method(std::uint32_t method_key);

}  // namespace roost
