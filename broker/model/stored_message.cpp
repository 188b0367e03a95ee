#include <string>

#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/model/message.hpp"
#include "storage/store.hpp"

namespace roost {

void take_stored_property_fields(message& m, bool persistent) {
  try {
    take_property_fields(m, amqp::scan_properties(m.properties));
    return;
  } catch (const amqp::decode_error& e) {
    log::warning("stored message " + std::to_string(m.store_id) + " has unreadable properties (" + e.what() +
                 "); delivering it without them");
  }
  amqp::basic_properties salvaged;
  if (persistent) salvaged.delivery_mode = 2;
  m.properties.clear();
  amqp::wire_writer out(m.properties);
  amqp::encode_properties(out, salvaged);
  take_property_fields(m, amqp::scan_properties(m.properties));
}

std::shared_ptr<message> message_from_store(storage::loaded_entry& e) {
  auto msg = std::make_shared<message>();
  msg->exchange = std::move(e.exchange);
  msg->routing_key = std::move(e.routing_key);
  msg->properties = std::move(e.properties);
  msg->body = std::move(e.body);
  msg->store_id = e.entry.message_id;
  take_stored_property_fields(*msg, e.persistent);
  return msg;
}

}  // namespace roost
