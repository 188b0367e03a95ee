// Direct Reply-to on the channel: the reply consumer, stamping the reply
// address on requests, and delivering replies. RabbitMQ 3.10's rules and
// texts, checked against a real node:
//   - consuming amq.rabbitmq.reply-to needs no_ack (406 "reply consumer
//     cannot acknowledge"), once per channel (406 "reply consumer already set");
//   - a publish with reply_to = amq.rabbitmq.reply-to on a channel without
//     one is 406 "fast reply consumer does not exist";
//   - queue.declare of amq.rabbitmq.reply-to (passive or not) answers
//     declare-ok with 0 messages and 1 consumer; a passive declare of an
//     address answers the same while its requester lives, else 404;
//   - a reply to a requester that is gone is dropped, or returned when mandatory.
// One deliberate difference: RabbitMQ also returns a mandatory reply it did
// deliver (its router counts no queue); Roost returns only what it dropped.
#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/names.hpp"

namespace roost {

void channel::consume_replies(const amqp::basic_consume& m) {
  std::string tag = m.consumer_tag.empty() ? generate_name("amq.ctag-") : m.consumer_tag;
  if (consumers_.contains(tag))
    throw connection_error(amqp::connection_reply::not_allowed, "attempt to reuse consumer tag '" + tag + "'");
  if (!m.no_ack) throw_precondition_failed("reply consumer cannot acknowledge");
  if (reply_consumer_) throw_precondition_failed("reply consumer already set");
  reply_consumer_ = reply_consumer{tag, conn_.owner().reply_to().add(alive_.watch())};
  if (!m.no_wait) reply(amqp::basic_consume_ok{tag});
}

bool channel::cancel_reply_consumer(const std::string& tag) {
  if (!reply_consumer_ || reply_consumer_->tag != tag) return false;
  conn_.owner().reply_to().remove(reply_consumer_->address);
  reply_consumer_.reset();
  return true;
}

void channel::stamp_reply_address(message& msg) {
  if (!reply_consumer_) throw_precondition_failed("fast reply consumer does not exist");
  amqp::basic_properties props = amqp::decode_properties(msg.properties);
  props.reply_to = reply_consumer_->address;
  std::string encoded;
  amqp::wire_writer out(encoded);
  amqp::encode_properties(out, props);
  msg.properties = std::move(encoded);
}

void channel::route_reply(const amqp::basic_publish& method, const message_ref& ref) {
  const message& msg = *ref;
  channel* requester = conn_.owner().reply_to().find(msg.routing_key);
  if (requester != nullptr) {
    requester->deliver_reply(ref);
  } else if (method.mandatory) {
    reply(amqp::basic_return{static_cast<std::uint16_t>(amqp::channel_reply::no_route), "NO_ROUTE", msg.exchange,
                             msg.routing_key});
    conn_.send_content(id_, ref);
  }
  if (confirms_) {
    confirms_->complete(confirms_->next(), confirm_tracker::outcome::ack);
    confirms_due_ = true;
  }
}

// No credit, flow or prefetch applies: the reply consumer is no-ack and, as
// in RabbitMQ, replies are never held back.
void channel::deliver_reply(const message_ref& msg) {
  conn_.send(id_, amqp::basic_deliver{reply_consumer_->tag, next_delivery_tag_++, false, msg->exchange,
                                      msg->routing_key});
  conn_.send_content(id_, msg);
}

void channel::answer_reply_queue_declare(const amqp::queue_declare& m) {
  const std::string& name = m.queue;
  if (name != direct_reply_to::pseudo_queue && conn_.owner().reply_to().find(name) == nullptr)
    throw_not_found("queue", name, vh().name());
  if (!m.no_wait) reply(amqp::queue_declare_ok{name, 0, 1});
}

}  // namespace roost
