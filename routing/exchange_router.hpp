// The routing index of one exchange: which destinations a message reaches.
//
// A router only knows bindings and ids. It never sees queue or exchange
// objects, so it is tested alone and stays valid while those objects come and
// go; the vhost (broker/) owns the entities and resolves ids. One
// implementation per exchange type, each in its own file. Lives on the broker
// thread; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/amqp/field_table.hpp"

namespace roost::routing {

enum class destination_kind : std::uint8_t { queue, exchange };

// A bound queue or exchange, by the id its vhost gave it.
struct destination {
  destination_kind kind = destination_kind::queue;
  std::uint32_t id = 0;
  auto operator<=>(const destination&) const = default;
};

// What a router may look at. headers is null when the message has none; a
// router that does not need headers never touches it.
struct routed_message {
  std::string_view routing_key;
  const amqp::field_table* headers = nullptr;
};

class exchange_router {
 public:
  virtual ~exchange_router() = default;

  // Adds a binding. Identity is (destination, routing key, arguments):
  // binding the same triple twice is a no-op and returns false.
  virtual bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) = 0;
  // Removes a binding; returns false when it did not exist.
  virtual bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) = 0;
  // Appends every matching destination to out (it may then hold duplicates;
  // the caller de-duplicates across exchanges). Must not allocate in the
  // router's own tables, whatever the key.
  virtual void route(const routed_message& message, std::vector<destination>& out) const = 0;
  // True when route() reads message headers, so callers decode them only then.
  virtual bool needs_headers() const { return false; }
  // Called before bind(): the reason RabbitMQ would refuse these binding
  // arguments (the text of a 406 PRECONDITION_FAILED), or empty when they are
  // acceptable. Only the headers exchange refuses anything.
  virtual std::string validate_binding(const amqp::field_table& /*arguments*/) const { return {}; }
};

// Returns the router for a built-in exchange type ("direct", "fanout",
// "topic", "headers"), or nullptr for an unknown type.
std::unique_ptr<exchange_router> make_router(std::string_view type);

}  // namespace roost::routing
