// What applies when a queue's arguments, its policy and its operator policy
// all speak, as RabbitMQ 3.10 resolves it (measured on a real node):
//
//   message-ttl, expires, max-length, max-length-bytes, delivery-limit:
//       the lowest of the x-argument, the policy and the operator policy;
//   dead-letter-exchange, dead-letter-routing-key, overflow:
//       the x-argument, else the policy (operator policies cannot set them);
//   alternate-exchange (exchanges): the argument, else the policy;
//   x-max-priority, x-single-active-consumer: arguments only;
//   streams: max-length-bytes, max-age, stream-max-segment-size-bytes:
//       the lowest of the three (rabbit_stream_queue's min).
//
// And what the admin API shows as effective_policy_definition: the
// policy's definition with the operator policy's keys merged in (the lower
// value where both set one). Pure functions.
#pragma once

#include <optional>
#include <string>

#include "amqp/field_table.hpp"
#include "broker/policy/policy.hpp"
#include "broker/queue/queue_arguments.hpp"
#include "broker/stream/stream_arguments.hpp"

namespace roost {

// `declared` parsed from `declared_table` (the queue's x-arguments); either policy may be null.
queue_arguments effective_queue_arguments(const queue_arguments& declared, const amqp::field_table& declared_table,
                                          const policy* p, const policy* op);

stream_arguments effective_stream_arguments(const stream_arguments& declared, const amqp::field_table& declared_table,
                                            const policy* p, const policy* op);

std::optional<std::string> effective_alternate_exchange(const std::optional<std::string>& declared, const policy* p);

amqp::field_table effective_definition(const policy* p, const policy* op);

}  // namespace roost
