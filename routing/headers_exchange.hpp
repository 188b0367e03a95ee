// The headers exchange: routes on message headers against binding arguments,
// ignoring the routing key; x-match (all, any, all-with-x, any-with-x) says
// how the arguments combine.
//
// Every binding is evaluated per message, as in RabbitMQ: there is no index
// that would let most bindings be skipped. Bindings are grouped by
// destination, so a destination is emitted once even when several of its
// bindings match, and its remaining bindings are not evaluated. Binding-time
// checks (validate_binding) reproduce RabbitMQ's refusal texts.
#pragma once

#include <cstddef>
#include <string>

#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"
#include "routing/headers_match.hpp"

namespace roost::routing {

class headers_exchange final : public exchange_router {
 public:
  bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  void route(const routed_message& message, std::vector<destination>& out) const override;
  bool needs_headers() const override { return true; }
  std::string validate_binding(const amqp::field_table& arguments) const override;

  std::size_t binding_count() const { return bindings_.binding_count(); }

 private:
  struct binding_tag {
    std::string routing_key;
    amqp::field_table arguments;  // canonical
    match_mode mode = match_mode::all;
    // mode is derived from arguments, so it takes no part in identity.
    bool operator==(const binding_tag& other) const {
      return routing_key == other.routing_key && arguments == other.arguments;
    }
  };

  binding_set<binding_tag> bindings_;
};

}  // namespace roost::routing
