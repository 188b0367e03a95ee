// Errors of the admin API and the one place that turns any failure into an
// HTTP status and RabbitMQ's {"error": ..., "reason": ...} body.
//
// Handlers throw api_error for HTTP-level problems (bad JSON, unknown
// vhost, wrong method) and let the broker's channel_error /
// connection_error escape from vhost operations; error_response() maps
// both, so the AMQP and HTTP sides report the same texts.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include "admin-ui/http_types.hpp"

namespace roost::admin {

class api_error : public std::runtime_error {
 public:
  // error: RabbitMQ's short word ("bad_request", "not_found", ...); reason: the human text.
  api_error(int status, std::string error, const std::string& reason)
      : std::runtime_error(reason), status_(status), error_(std::move(error)) {}
  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  int status_;
  std::string error_;
};

[[noreturn]] inline void bad_request(const std::string& reason) { throw api_error(400, "bad_request", reason); }
[[noreturn]] inline void not_found(const std::string& reason = "Object Not Found") {
  throw api_error(404, "Object Not Found", reason);
}

// A JSON error response with the given status.
http_response error_body(int status, const std::string& error, const std::string& reason);
// Maps the exception in flight (api_error, broker errors, JSON errors, anything else) to a response.
http_response error_response(std::exception_ptr e);

}  // namespace roost::admin
