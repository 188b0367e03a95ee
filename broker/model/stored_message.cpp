#include <string>

#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/model/message.hpp"

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

}  // namespace roost
