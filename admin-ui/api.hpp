// The admin HTTP API's entry point: one request in, one response out.
//
// Routes /api/... through the route table (after Basic auth), /metrics to
// the Prometheus exporter and everything else to the static dashboard
// files. Every failure becomes a JSON error here (api_error.hpp). Runs on
// the broker thread; does no socket I/O.
#pragma once

#include "admin-ui/api_call.hpp"
#include "admin-ui/http_types.hpp"

namespace roost::admin {

http_response handle_request(const http_request& req, admin_context& ctx);

}  // namespace roost::admin
