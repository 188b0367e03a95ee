// Queue arguments checked when a queue is declared, with RabbitMQ's 406
// texts ("invalid arg 'x-...' for queue 'q' in vhost '/': {unacceptable_type,longstr}"),
// and the features they switch on that the queue reads once at creation.
#pragma once

#include <string_view>

#include "broker/amqp/field_table.hpp"

namespace roost {

// Throws 406 PRECONDITION_FAILED for an argument of the wrong type.
void check_queue_argument_types(std::string_view queue_name, std::string_view vhost,
                                const amqp::field_table& arguments);

// x-single-active-consumer = true: only the first consumer receives; the
// next takes over when it goes (RabbitMQ 3.8+).
bool single_active_consumer(const amqp::field_table& arguments);

}  // namespace roost
