// Header rewriting for messages leaving or returning to a queue: building
// a dead-lettered copy of a message, with the headers RabbitMQ
// writes (x-death, x-first-death-*, and x-last-death-* as RabbitMQ 3.13+
// adds them), and RabbitMQ's cycle rule.
//
// Pure functions on message data: no queues, no stores, no threads, so the
// header format is unit-tested byte for byte.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.hpp"
#include "broker/model/message.hpp"

namespace roost {

enum class death_reason : std::uint8_t { rejected, expired, maxlen, delivery_limit };

std::string_view reason_name(death_reason r);

struct death_event {
  std::string_view queue;
  death_reason reason = death_reason::rejected;
  std::uint64_t time_seconds = 0;
  std::string_view dead_letter_exchange;
  // x-dead-letter-routing-key; without it the message keeps its routing keys.
  std::optional<std::string_view> dead_letter_routing_key;
};

struct dead_lettered {
  std::shared_ptr<message> msg;
  // The new headers, decoded (for the cycle check).
  amqp::field_table headers;
  // Keys to route with at the dead-letter exchange: the routing key and the
  // CC and BCC keys, or only x-dead-letter-routing-key.
  std::vector<std::string> routing_keys;
};

// The message as it leaves `e.queue`: x-death updated (an existing entry
// for the same queue and reason has its count incremented and moves to the
// front; otherwise a new entry with count 1 is prepended), expiration
// removed (and BCC, as RabbitMQ never delivers it), exchange and routing
// key those of the dead-letter route. Throws
// amqp::decode_error if the stored properties are malformed.
dead_lettered make_dead_lettered(const message& original, const death_event& e);

// RabbitMQ's rule: a message returning to `queue` cycles when `queue` is in
// its x-death and no death since then (that one included) was a rejection;
// such a message is dropped rather than dead-lettered forever.
bool dead_letter_cycle(const amqp::field_table& headers, std::string_view queue);

// Where a dead-lettered message last died: its most recent x-death entry
// (redrive sends it back there).
struct last_death {
  std::string queue;
  std::string reason;
  std::string exchange;  // the exchange it was published to before it died
  std::vector<std::string> routing_keys;
};
// Null when the headers have no readable x-death entry.
std::optional<last_death> last_death_of(const amqp::field_table& headers);
// The same from a message's properties; null also when they do not decode.
std::optional<last_death> last_death_of(const message& m);

// The message with the x-delivery-count header (a long) set, as RabbitMQ's
// quorum queues send redeliveries. The store keeps the original content;
// the count lives in the entry and the header is put back when the
// message is read again. Throws amqp::decode_error on malformed properties.
message_ref with_delivery_count(const message& m, std::uint32_t count);

}  // namespace roost
