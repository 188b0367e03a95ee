// The x-consistent-hash exchange (RabbitMQ's rabbitmq_consistent_hash_exchange
// plugin): each message goes to exactly one bound destination, chosen by
// hashing the routing key, or the header named by the exchange argument
// `hash-header`, or the property named by `hash-property` (message_id,
// correlation_id, timestamp). The binding key is the destination's weight,
// a positive integer; shares are proportional to weights (up to 1000: a
// larger weight counts as 1000, which bounds the ring's size).
//
// The same key always reaches the same destination while the bindings stay
// the same (also across restarts: the ring is seeded by destination names,
// see hash_ring.hpp), and binding or unbinding one destination moves only
// the keys it gains or loses. A message whose header or property is
// missing hashes as an empty value, so all such messages share one
// destination. Lives on the broker thread.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"
#include "routing/hash_ring.hpp"

namespace roost::routing {

class consistent_hash_exchange final : public exchange_router {
 public:
  // arguments: the exchange's, already accepted by check_exchange.
  explicit consistent_hash_exchange(const amqp::field_table& arguments = {});

  bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  void route(const routed_message& message, std::vector<destination>& out) const override;
  bool needs_headers() const override { return source_ == hash_source::header; }
  std::string validate_binding_key(std::string_view routing_key) const override;
  void name_destination(destination dest, std::string_view name) override;

  // The 406 text for exchange arguments the plugin refuses, or empty.
  static std::string validate_arguments(const amqp::field_table& arguments);

  std::size_t binding_count() const { return bindings_.size(); }
  const hash_ring& ring() const { return ring_; }

 private:
  enum class hash_source : std::uint8_t { routing_key, header, property };
  struct binding_entry {
    destination dest;
    std::string key;
    amqp::field_table arguments;  // canonical
    std::uint32_t weight = 0;
  };

  void rebuild();
  std::uint64_t key_hash(const routed_message& message) const;

  hash_source source_ = hash_source::routing_key;
  std::string source_name_;  // the header or property name
  std::vector<binding_entry> bindings_;
  std::unordered_map<destination, std::string, destination_hash> names_;
  hash_ring ring_;
};

}  // namespace roost::routing
