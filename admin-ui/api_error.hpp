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
#include <vector>

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

// RabbitMQ reports some refusals with an Erlang tuple as the reason, which
// its JSON encoder writes as a list: {"error": "bad_request", "reason":
// ["no_such_user", "bob"]}. Such an error carries the list's parts.
class api_error_list : public api_error {
 public:
  api_error_list(int status, std::string error, std::vector<std::string> parts);
  const std::vector<std::string>& parts() const { return parts_; }

 private:
  std::vector<std::string> parts_;
};

[[noreturn]] inline void bad_request(const std::string& reason) { throw api_error(400, "bad_request", reason); }
// 400 with a list as the reason: bad_request_list({"no_such_user", name}).
[[noreturn]] inline void bad_request_list(std::vector<std::string> parts) {
  throw api_error_list(400, "bad_request", std::move(parts));
}
[[noreturn]] inline void not_found(const std::string& reason = "Object Not Found") {
  throw api_error(404, "Object Not Found", reason);
}

// A JSON error response with the given status.
http_response error_body(int status, const std::string& error, const std::string& reason);
// Maps the exception in flight (api_error, broker errors, JSON errors, anything else) to a response.
http_response error_response(std::exception_ptr e);

}  // namespace roost::admin
