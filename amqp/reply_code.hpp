// AMQP reply codes, split by the level at which they close things: a channel
// error closes one channel, a connection error closes the connection.
#pragma once

#include <cstdint>
#include <string_view>

namespace roost::amqp {

enum class channel_reply : std::uint16_t {
  content_too_large = 311,
  no_route = 312,
  no_consumers = 313,
  access_refused = 403,
  not_found = 404,
  resource_locked = 405,
  precondition_failed = 406,
};

enum class connection_reply : std::uint16_t {
  connection_forced = 320,
  invalid_path = 402,
  access_refused = 403,
  frame_error = 501,
  syntax_error = 502,
  command_invalid = 503,
  channel_error = 504,
  unexpected_frame = 505,
  resource_error = 506,
  not_allowed = 530,
  not_implemented = 540,
  internal_error = 541,
};

// The constant's name as RabbitMQ prints it at the start of reply texts
// ("NOT_FOUND - no queue 'x' in vhost '/'").
std::string_view reply_name(channel_reply code);
std::string_view reply_name(connection_reply code);

}  // namespace roost::amqp
