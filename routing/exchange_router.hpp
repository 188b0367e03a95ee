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

#include "amqp/field_table.hpp"

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
  // The content header's raw property flags and list, for routers that
  // read a property (consistent hashing on message_id, say).
  std::string_view properties = {};
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
  // Like validate_binding, for the binding key (a consistent-hash weight must be an integer).
  virtual std::string validate_binding_key(std::string_view /*routing_key*/) const { return {}; }
  // Routers whose choice must be the same after a restart (consistent
  // hashing) key on the destination's name, which, unlike its id, survives
  // one. The vhost calls this before bind(); other routers ignore it.
  virtual void name_destination(destination /*dest*/, std::string_view /*name*/) {}
};

// Why an exchange declaration is refused, if it is: RabbitMQ answers an
// unknown type with 503 COMMAND_INVALID and bad type-specific arguments
// (hash-header with hash-property, a missing x-delayed-type) with 406.
struct exchange_problem {
  enum class kind : std::uint8_t { none, unknown_type, invalid_arguments };
  kind what = kind::none;
  std::string text;  // for unknown_type, the offending type name
};
exchange_problem check_exchange(std::string_view type, const amqp::field_table& arguments);

// Returns the router for an exchange of a built-in type ("direct", "fanout",
// "topic", "headers", "x-consistent-hash", and "x-delayed-message", which
// routes as its x-delayed-type argument says), or nullptr when
// check_exchange would refuse the declaration.
std::unique_ptr<exchange_router> make_router(std::string_view type, const amqp::field_table& arguments = {});

}  // namespace roost::routing
