#include "admin-ui/api_error.hpp"

#include <nlohmann/json.hpp>

#include "admin-ui/api_call.hpp"
#include "broker/common/log.hpp"
#include "broker/protocol/errors.hpp"

namespace roost::admin {

namespace {

// Broker reply codes as HTTP statuses: the resource is missing (404), the
// request conflicts with the current state (in use, not empty, declared
// differently, exclusive elsewhere: 409), or it is not allowed (403).
int status_for(amqp::channel_reply code) {
  switch (code) {
    case amqp::channel_reply::not_found: return 404;
    case amqp::channel_reply::access_refused: return 403;
    case amqp::channel_reply::precondition_failed:
    case amqp::channel_reply::resource_locked: return 409;
    default: return 400;
  }
}

const char* error_word(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "not_authorised";
    case 403: return "access_refused";
    case 404: return "Object Not Found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    default: return "internal_server_error";
  }
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ": ") + p;
  return out;
}

}  // namespace

api_error_list::api_error_list(int status, std::string error, std::vector<std::string> parts)
    : api_error(status, std::move(error), joined(parts)), parts_(std::move(parts)) {}

// Reasons quote names and values the client sent, which need not be UTF-8:
// json_response replaces invalid bytes instead of throwing.
http_response error_body(int status, const std::string& error, const std::string& reason) {
  return json_response(nlohmann::json{{"error", error}, {"reason", reason}}, status);
}

http_response error_response(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const api_error_list& x) {
    return json_response(nlohmann::json{{"error", x.error()}, {"reason", x.parts()}}, x.status());
  } catch (const api_error& x) {
    return error_body(x.status(), x.error(), x.what());
  } catch (const channel_error& x) {
    int status = status_for(x.code());
    return error_body(status, error_word(status), x.what());
  } catch (const connection_error& x) {
    // Connection-level codes from a vhost operation (unknown exchange type) are bad input.
    return error_body(400, error_word(400), x.what());
  } catch (const nlohmann::json::exception& x) {
    return error_body(400, error_word(400), std::string("JSON: ") + x.what());
  } catch (const std::exception& x) {
    log::error(std::string("admin API: unexpected error: ") + x.what());
    return error_body(500, error_word(500), x.what());
  } catch (...) {
    log::error("admin API: unexpected non-standard exception");
    return error_body(500, error_word(500), "unknown error");
  }
}

}  // namespace roost::admin
