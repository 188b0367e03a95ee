// An exchange as the vhost sees it: its declared properties, its routing
// index, and the bindings it is the source of (for listing and clean-up; the
// router keeps only what routing needs).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/field_table.hpp"
#include "broker/queue/queue.hpp"
#include "routing/exchange_router.hpp"

namespace roost {

class policy;

struct exchange_spec {
  std::string name;
  std::string type;
  durability durable = durability::transient;
  bool auto_delete = false;
  bool internal = false;
  amqp::field_table arguments;
};

struct binding {
  routing::destination destination;
  std::string routing_key;
  amqp::field_table arguments;
  bool operator==(const binding&) const = default;
};

class exchange {
 public:
  exchange(std::uint32_t id, exchange_spec spec, std::unique_ptr<routing::exchange_router> router)
      : id_(id), spec_(std::move(spec)), router_(std::move(router)) {
    if (auto* ae = spec_.arguments.find("alternate-exchange"))
      if (auto* name = ae->as_string()) alternate_ = *name;
    declared_alternate_ = alternate_;
    delays_ = spec_.type == "x-delayed-message" || delay_requested(spec_.arguments);
  }

  std::uint32_t id() const { return id_; }
  const std::string& name() const { return spec_.name; }
  const exchange_spec& spec() const { return spec_; }
  bool is_default() const { return spec_.name.empty(); }
  // The argument's, else the policy's (read on every unroutable publish: a plain member).
  const std::optional<std::string>& alternate_exchange() const { return alternate_; }
  // The policy applying to the exchange (null: none); broker/policy/policy_apply.cpp.
  const std::shared_ptr<const policy>& applied_policy() const { return policy_; }
  void apply_policy(std::shared_ptr<const policy> p);
  // Publishes with a positive x-delay header are held back (delayed_delivery.hpp).
  bool delays() const { return delays_; }

  routing::exchange_router& router() { return *router_; }
  const routing::exchange_router& router() const { return *router_; }
  std::vector<binding>& bindings() { return bindings_; }
  const std::vector<binding>& bindings() const { return bindings_; }

 private:
  std::uint32_t id_;
  exchange_spec spec_;
  std::unique_ptr<routing::exchange_router> router_;
  // x-delayed-exchange = true (a bool, or the string "true") on any exchange type.
  static bool delay_requested(const amqp::field_table& arguments) {
    const amqp::field_value* v = arguments.find("x-delayed-exchange");
    if (v == nullptr) return false;
    if (const bool* flag = v->get_if<bool>()) return *flag;
    const std::string* text = v->as_string();
    return text != nullptr && *text == "true";
  }

  std::optional<std::string> alternate_;
  std::optional<std::string> declared_alternate_;
  std::shared_ptr<const policy> policy_;
  bool delays_ = false;
  std::vector<binding> bindings_;
};

}  // namespace roost
