// The queue arguments that change how a queue treats its messages
// (dead-lettering, TTL, length limits, delivery limit, expiry of the queue
// itself, single active consumer, priorities), parsed once at declare time and checked the way RabbitMQ 3.10's
// rabbit_amqqueue:declare_args does, with its reply texts.
//
// Plain data, no threads. x-delivery-limit is accepted on every queue
// (RabbitMQ only has it on quorum queues).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "amqp/field_table.hpp"

namespace roost {

enum class overflow_mode : std::uint8_t { drop_head, reject_publish, reject_publish_dlx };

struct queue_arguments {
  std::optional<std::string> dead_letter_exchange;
  std::optional<std::string> dead_letter_routing_key;
  std::optional<std::int64_t> message_ttl_ms;
  std::optional<std::int64_t> expires_ms;
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> max_length_bytes;
  overflow_mode overflow = overflow_mode::drop_head;
  std::optional<std::int64_t> delivery_limit;
  // x-single-active-consumer = true: only the first consumer receives; the
  // next takes over when it goes (RabbitMQ 3.8+).
  bool single_active_consumer = false;
  // x-max-priority (0-255): messages are delivered highest priority first,
  // a message's priority capped at this; absent: one level, plain FIFO.
  std::optional<std::int64_t> max_priority;

  bool dead_letters() const { return dead_letter_exchange.has_value(); }
  bool limits_length() const { return max_length || max_length_bytes; }
  // How many priority levels the queue keeps apart.
  std::size_t priority_levels() const { return max_priority ? static_cast<std::size_t>(*max_priority) + 1 : 1; }
};

// Parses the arguments of a queue being declared; `what` names it
// ("queue 'q' in vhost '/'"). Throws 406 PRECONDITION_FAILED with
// RabbitMQ's text for a wrong type or value.
queue_arguments parse_queue_arguments(const amqp::field_table& arguments, std::string_view what);

// The per-message `expiration` property (a decimal string of milliseconds).
// Throws 406 PRECONDITION_FAILED "invalid expiration '...': ..." as RabbitMQ does.
std::int64_t parse_expiration(std::string_view text);

}  // namespace roost
