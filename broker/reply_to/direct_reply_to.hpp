// Direct Reply-to (RabbitMQ's amq.rabbitmq.reply-to): request/reply without
// a reply queue. A channel consuming the pseudo-queue amq.rabbitmq.reply-to
// in no-ack mode gets an address, amq.rabbitmq.reply-to.<token>; its
// publishes with reply_to = amq.rabbitmq.reply-to carry that address
// instead, and a reply published to the default exchange with the address
// as routing key goes straight to the consumer, bypassing every queue.
//
// This registry maps addresses to the consuming channels. It belongs to the
// broker, not a vhost: as in RabbitMQ, a reply reaches its requester from
// any vhost. Tokens are 128 bits from the OS's random source, so an
// address cannot be guessed from another. Broker thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "routing/binding_set.hpp"

namespace roost {

class channel;

class direct_reply_to {
 public:
  static constexpr std::string_view pseudo_queue = "amq.rabbitmq.reply-to";

  // A routing key or queue name of the form amq.rabbitmq.reply-to.<token>.
  static bool is_address(std::string_view name) {
    return name.size() > pseudo_queue.size() && name.starts_with(pseudo_queue) && name[pseudo_queue.size()] == '.';
  }

  // Registers a channel's reply consumer and returns its new address.
  std::string add(std::shared_ptr<channel* const> requester);
  void remove(const std::string& address);
  // The live channel behind an address, or nullptr when it is unknown or gone.
  channel* find(std::string_view address) const;

 private:
  std::unordered_map<std::string, std::shared_ptr<channel* const>, routing::string_hash, std::equal_to<>>
      requesters_;
};

}  // namespace roost
