// A published message: immutable once built, shared by every queue that holds
// it and every delivery that carries it.
//
// properties are the content header's property flags and list exactly as the
// publisher sent them, so a delivery forwards them without decoding or
// re-encoding anything; the few fields the broker acts on are pulled out once
// at publish time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "amqp/properties.hpp"

namespace roost::storage {
struct loaded_entry;
}

namespace roost {

class publish_confirm;

struct message {
  std::string exchange;
  std::string routing_key;
  std::string properties;
  std::string body;
  std::uint8_t delivery_mode = 0;  // 2 = persistent
  std::uint8_t priority = 0;       // the priority property; 0 when absent
  // The expiration property in milliseconds (per-message TTL); -1 = none.
  std::int64_t expiration_ms = -1;
  // The message's row in a store, once it has one; 0 until then. Set before
  // the message is shared, never after.
  std::uint64_t store_id = 0;
  // Set for a persistent publish in confirm mode: stored copies report their
  // settlement to it. Mutable: bookkeeping about the message, not its content.
  mutable std::shared_ptr<publish_confirm> confirm;

  bool persistent() const { return delivery_mode == 2; }
};

using message_ref = std::shared_ptr<const message>;

// Copies the property fields the broker acts on into m (not expiration: a
// stored message's expiry is its entry's, not recomputed).
inline void take_property_fields(message& m, const amqp::property_summary& props) {
  m.delivery_mode = props.delivery_mode;
  m.priority = props.priority.value_or(0);
}

// take_property_fields for a message read back from a store (m.store_id
// set). A damaged row (bit rot, an editor) must not stop the broker or reach
// a client's parser: properties that do not decode are logged and replaced
// by none but persistence, and the body is delivered as it was stored.
void take_stored_property_fields(message& m, bool persistent);

// A message read back from a store, its content moved out of `e`.
std::shared_ptr<message> message_from_store(storage::loaded_entry& e);

}  // namespace roost
