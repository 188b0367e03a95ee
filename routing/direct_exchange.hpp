// The direct exchange: a message goes to the destinations bound with exactly
// its routing key.
//
// A hash map from key to the bindings of that key. Publishing is the hot path
// and clients publish to arbitrary keys, so route() looks keys up with a
// string_view and never inserts: a stream of unbound keys must not grow the
// table (key_count() exists so a test can prove that).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"

namespace roost::routing {

class direct_exchange final : public exchange_router {
 public:
  bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  void route(const routed_message& message, std::vector<destination>& out) const override;

  // Distinct keys with at least one binding.
  std::size_t key_count() const { return table_.size(); }

 private:
  std::unordered_map<std::string, binding_set<amqp::field_table>, string_hash, std::equal_to<>> table_;
};

}  // namespace roost::routing
