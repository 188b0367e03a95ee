#include "amqp/reply_code.hpp"

namespace roost::amqp {

std::string_view reply_name(channel_reply code) {
  switch (code) {
    case channel_reply::content_too_large: return "CONTENT_TOO_LARGE";
    case channel_reply::no_route: return "NO_ROUTE";
    case channel_reply::no_consumers: return "NO_CONSUMERS";
    case channel_reply::access_refused: return "ACCESS_REFUSED";
    case channel_reply::not_found: return "NOT_FOUND";
    case channel_reply::resource_locked: return "RESOURCE_LOCKED";
    case channel_reply::precondition_failed: return "PRECONDITION_FAILED";
  }
  return "UNKNOWN";
}

std::string_view reply_name(connection_reply code) {
  switch (code) {
    case connection_reply::connection_forced: return "CONNECTION_FORCED";
    case connection_reply::invalid_path: return "INVALID_PATH";
    case connection_reply::access_refused: return "ACCESS_REFUSED";
    case connection_reply::frame_error: return "FRAME_ERROR";
    case connection_reply::syntax_error: return "SYNTAX_ERROR";
    case connection_reply::command_invalid: return "COMMAND_INVALID";
    case connection_reply::channel_error: return "CHANNEL_ERROR";
    case connection_reply::unexpected_frame: return "UNEXPECTED_FRAME";
    case connection_reply::resource_error: return "RESOURCE_ERROR";
    case connection_reply::not_allowed: return "NOT_ALLOWED";
    case connection_reply::not_implemented: return "NOT_IMPLEMENTED";
    case connection_reply::internal_error: return "INTERNAL_ERROR";
  }
  return "UNKNOWN";
}

}  // namespace roost::amqp
