// GET /metrics: Prometheus text exposition with the metric names of
// RabbitMQ's rabbitmq_prometheus plugin where one exists (per-object
// metrics, as with its /metrics/per-object endpoint).
//
// One pass over the queues, one over the unacked deliveries; the text is
// built into one string reserved up front, so a scrape with 10,000 queues
// costs a few milliseconds of the broker thread. No authentication, like
// RabbitMQ's Prometheus endpoint.
#pragma once

#include "admin-ui/api_call.hpp"
#include "admin-ui/http_types.hpp"

namespace roost::admin {

http_response metrics_response(admin_context& ctx);

}  // namespace roost::admin
