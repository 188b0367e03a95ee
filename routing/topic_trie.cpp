// Topic trie: insertion, pruning removal and the memoised match walk (see
// topic_trie.hpp for the rules and why the walk is memoised).
#include "routing/topic_trie.hpp"

namespace roost::routing {

struct topic_trie::node {
  std::unordered_map<std::string, std::unique_ptr<node>, string_hash, std::equal_to<>> words;
  // Wildcards get their own edges: the walk tries them at every node, and a
  // member test is cheaper than two more hash lookups.
  std::unique_ptr<node> star;
  std::unique_ptr<node> hash;
  binding_set<amqp::field_table> bindings;
  std::uint32_t hash_slot = 0;  // meaningful only on a node reached through '#'

  bool empty() const { return words.empty() && !star && !hash && bindings.empty(); }

  const node* find_word(std::string_view word) const {
    const auto it = words.find(word);
    return it == words.end() ? nullptr : it->second.get();
  }
};

namespace {

// Per '#' node and per match: the lowest word index the node has been
// expanded from. The epoch saves clearing the marks before each match.
struct hash_mark {
  std::uint64_t epoch = 0;
  std::size_t floor = 0;
};

// Per thread rather than per trie so that match() stays const and safe to run
// on several threads; reused across calls so steady-state matching does not allocate.
struct match_scratch {
  std::vector<std::string_view> words;
  std::vector<hash_mark> marks;
  std::uint64_t epoch = 0;
};

thread_local match_scratch scratch;

}  // namespace

void split_topic_key(std::string_view key, std::vector<std::string_view>& words) {
  words.clear();
  if (key.empty()) return;  // zero words, not one empty word: "#" matches it, "*" does not
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(key.substr(start));
      return;
    }
    words.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
}

struct topic_trie::match_walk {
  std::span<const std::string_view> words;
  std::vector<hash_mark>& marks;
  std::uint64_t epoch;
  std::vector<destination>& out;

  // n has consumed the first i words.
  void visit(const node& n, std::size_t i) {
    if (i == words.size()) {
      n.bindings.append_destinations(out);
    } else {
      // A literal "*" or "#" in a routing key finds no word edge (wildcards
      // have their own), so it is matched by wildcards alone, once, where
      // RabbitMQ would walk the wildcard subtree twice and emit duplicates.
      if (const node* child = n.find_word(words[i])) visit(*child, i + 1);
      if (n.star) visit(*n.star, i + 1);
    }
    if (n.hash) enter_hash(*n.hash, i);
  }

  // '#' entered at word i may swallow words i..k-1 for every k up to the end.
  // Expansions from a lower index cover every higher one, so only the indices
  // below the lowest earlier entry are new; the trie being a tree, the node
  // cannot be re-entered while this loop runs.
  void enter_hash(const node& h, std::size_t i) {
    hash_mark& mark = marks[h.hash_slot];
    const std::size_t expanded_from = mark.epoch == epoch ? mark.floor : words.size() + 1;
    if (i >= expanded_from) return;
    mark = hash_mark{epoch, i};
    for (std::size_t k = i; k < expanded_from; ++k) visit(h, k);
  }
};

topic_trie::topic_trie() : root_(std::make_unique<node>()) {}
topic_trie::~topic_trie() = default;

bool topic_trie::add(std::string_view binding_key, destination dest, amqp::field_table arguments) {
  std::vector<std::string_view> words;
  split_topic_key(binding_key, words);
  node* n = root_.get();
  for (const std::string_view word : words) n = &child_for_insert(*n, word);
  // A duplicate means the whole path already existed, so nothing was created to undo.
  if (!n->bindings.add(dest, std::move(arguments))) return false;
  ++binding_count_;
  return true;
}

bool topic_trie::remove(std::string_view binding_key, destination dest, const amqp::field_table& arguments) {
  std::vector<std::string_view> words;
  split_topic_key(binding_key, words);
  if (!remove_below(*root_, words, dest, arguments)) return false;
  --binding_count_;
  return true;
}

void topic_trie::match(std::string_view routing_key, std::vector<destination>& out) const {
  if (binding_count_ == 0) return;
  match_scratch& s = scratch;
  split_topic_key(routing_key, s.words);
  if (s.marks.size() < hash_slot_capacity_) s.marks.resize(hash_slot_capacity_);
  match_walk walk{s.words, s.marks, ++s.epoch, out};
  walk.visit(*root_, 0);
}

topic_trie::node& topic_trie::child_for_insert(node& parent, std::string_view word) {
  if (word == "*" || word == "#") {
    std::unique_ptr<node>& edge = word == "*" ? parent.star : parent.hash;
    if (!edge) {
      auto child = std::make_unique<node>();
      if (word == "#") child->hash_slot = acquire_hash_slot();
      edge = std::move(child);
      ++node_count_;
    }
    return *edge;
  }
  if (const auto it = parent.words.find(word); it != parent.words.end()) return *it->second;
  auto child = std::make_unique<node>();
  node& created = *child;
  parent.words.emplace(std::string(word), std::move(child));
  ++node_count_;
  return created;
}

topic_trie::node* topic_trie::find_child(node& parent, std::string_view word) {
  if (word == "*") return parent.star.get();
  if (word == "#") return parent.hash.get();
  const auto it = parent.words.find(word);
  return it == parent.words.end() ? nullptr : it->second.get();
}

void topic_trie::erase_child(node& parent, std::string_view word) {
  if (word == "*") {
    parent.star.reset();
  } else if (word == "#") {
    free_hash_slots_.push_back(parent.hash->hash_slot);
    parent.hash.reset();
  } else {
    parent.words.erase(parent.words.find(word));
  }
  --node_count_;
}

// Recursion depth is the number of words in the key, at most 256 for an
// AMQP shortstr.
bool topic_trie::remove_below(node& n, std::span<const std::string_view> words, destination dest,
                              const amqp::field_table& arguments) {
  if (words.empty()) return n.bindings.remove(dest, arguments);
  node* child = find_child(n, words.front());
  if (child == nullptr || !remove_below(*child, words.subspan(1), dest, arguments)) return false;
  if (child->empty()) erase_child(n, words.front());
  return true;
}

std::uint32_t topic_trie::acquire_hash_slot() {
  if (free_hash_slots_.empty()) return hash_slot_capacity_++;
  const std::uint32_t slot = free_hash_slots_.back();
  free_hash_slots_.pop_back();
  return slot;
}

}  // namespace roost::routing
