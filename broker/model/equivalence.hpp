// RabbitMQ's rules for redeclaring an existing queue or exchange: which
// properties and arguments must match, and the 406 text when they do not.
#pragma once

#include <string_view>

#include "amqp/field_table.hpp"

namespace roost {

// Throws 406 PRECONDITION_FAILED "inequivalent arg 'durable' for queue 'q' in
// vhost '/': received 'true' but current is 'false'" when current != requested.
void check_flag_equivalence(std::string_view what, std::string_view arg, bool current, bool requested);
void check_text_equivalence(std::string_view what, std::string_view arg, std::string_view current,
                            std::string_view requested);
// Compares only the arguments RabbitMQ compares for queues (x-message-ttl,
// x-max-length, x-dead-letter-exchange, ...); others may differ freely.
// Integers of any width compare by value, as in RabbitMQ. A stream compares
// x-queue-type and its retention and segment arguments only.
void check_queue_arguments(std::string_view what, const amqp::field_table& current, const amqp::field_table& requested,
                           bool stream = false);
// Exchanges: only alternate-exchange is compared.
void check_exchange_arguments(std::string_view what, const amqp::field_table& current,
                              const amqp::field_table& requested);

}  // namespace roost
