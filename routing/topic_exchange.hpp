// The topic exchange: binding keys are dot-separated word patterns with "*"
// (one word) and "#" (zero or more words); a message goes to every
// destination whose pattern matches its routing key.
//
// A thin adapter: the matching rules and their RabbitMQ corner cases live in
// topic_trie, which tests can also reach through trie() to check that unbind
// really frees nodes.
#pragma once

#include "routing/exchange_router.hpp"
#include "routing/topic_trie.hpp"

namespace roost::routing {

class topic_exchange final : public exchange_router {
 public:
  bool bind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  bool unbind(destination dest, std::string_view routing_key, const amqp::field_table& arguments) override;
  void route(const routed_message& message, std::vector<destination>& out) const override;

  const topic_trie& trie() const { return trie_; }

 private:
  topic_trie trie_;
};

}  // namespace roost::routing
