// The fanout exchange: every message goes to every bound destination; the
// routing key is ignored.
//
// Binding identity still includes the key (RabbitMQ keeps "q bound with key
// a" and "q bound with key b" as two bindings, and unbinding one leaves the
// other), so each destination carries its (key, arguments) pairs, and route()
// emits it once however many it has.
#pragma once

#include <cstddef>
#include <string>

#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"

namespace roost::routing {

class fanout_exchange final : public exchange_router {
 public:
  bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  void route(const routed_message& message, std::vector<destination>& out) const override;

  std::size_t binding_count() const { return bindings_.binding_count(); }
  std::size_t destination_count() const { return bindings_.destination_count(); }

 private:
  struct binding_tag {
    std::string routing_key;
    amqp::field_table arguments;  // canonical
    bool operator==(const binding_tag&) const = default;
  };

  binding_set<binding_tag> bindings_;
};

}  // namespace roost::routing
