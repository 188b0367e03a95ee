// The word trie behind the topic exchange: binding keys are stored word by
// word, and a routing key is matched by walking every branch its words allow.
//
// Words follow RabbitMQ exactly: split on '.', empty words count ("a..b" is
// three words), and the empty key has no words at all. In a binding key "*"
// stands for exactly one word and "#" for zero or more, anywhere and any
// number of times. RabbitMQ's walk re-explores the same (node, word) pair once
// per way of reaching it, which is exponential for keys like "#.#.#.b"; here
// each '#' node remembers, per match, the lowest word index it has already
// been expanded from, so every (node, word index) pair is visited at most
// once. Nodes left without bindings or children are freed on unbind, so
// bind/unbind churn does not grow the trie.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp/field_table.hpp"
#include "routing/binding_set.hpp"
#include "routing/exchange_router.hpp"

namespace roost::routing {

// Splits a topic key into words as RabbitMQ does (split_topic_key): "" gives
// no words, "a." gives "a" and "", "." gives two empty words. The views point
// into key.
void split_topic_key(std::string_view key, std::vector<std::string_view>& words);

class topic_trie {
 public:
  topic_trie();
  ~topic_trie();
  topic_trie(const topic_trie&) = delete;
  topic_trie& operator=(const topic_trie&) = delete;

  // arguments must already be canonical (see canonical_arguments).
  bool add(std::string_view binding_key, destination dest, amqp::field_table arguments);
  bool remove(std::string_view binding_key, destination dest, const amqp::field_table& arguments);
  // Appends the destinations of every binding whose key matches routing_key,
  // each binding once. Allocates nothing once its per-thread buffers have
  // grown to the largest key and trie seen.
  void match(std::string_view routing_key, std::vector<destination>& out) const;

  // Includes the root, so an empty trie has one node.
  std::size_t node_count() const { return node_count_; }
  std::size_t binding_count() const { return binding_count_; }

 private:
  struct node;
  struct match_walk;

  node& child_for_insert(node& parent, std::string_view word);
  node* find_child(node& parent, std::string_view word);
  void erase_child(node& parent, std::string_view word);
  bool remove_below(node& n, std::span<const std::string_view> words, destination dest,
                    const amqp::field_table& arguments);
  std::uint32_t acquire_hash_slot();

  std::unique_ptr<node> root_;
  std::size_t node_count_ = 1;
  std::size_t binding_count_ = 0;
  // Every '#' node owns a slot in the per-match visit marks; freed slots are reused.
  std::uint32_t hash_slot_capacity_ = 0;
  std::vector<std::uint32_t> free_hash_slots_;
};

}  // namespace roost::routing
