// The bindings that share one routing slot (a direct key, a topic trie node,
// a whole fanout or headers exchange), plus the hashing and argument
// normalisation every exchange type needs.
//
// Bindings are grouped by destination so that route() emits a destination once
// per slot even when it is bound there several times (same key, different
// arguments, or different keys on a fanout): fewer duplicates for the caller
// to strip. route() is a scan of a dense vector; a hash index is added only
// when a slot grows large, so that binding thousands of queues to one fanout
// or one direct key stays linear overall instead of quadratic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp/field_table.hpp"
#include "routing/exchange_router.hpp"

namespace roost::routing {

struct destination_hash {
  std::size_t operator()(destination dest) const noexcept;
};

// Lets std::string-keyed maps be searched with a string_view, so route()
// looks keys up without building a std::string.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Binding arguments in the form RabbitMQ stores and compares them: entries
// stably sorted by name (rabbit_misc:sort_field_table), so {a,b} and {b,a}
// name the same binding. Nested tables keep their order, as in RabbitMQ.
amqp::field_table canonical_arguments(const amqp::field_table& arguments);

// Tag is what distinguishes two bindings of one destination in this slot
// (the arguments, or key and arguments); it needs operator==.
template <class Tag>
class binding_set {
 public:
  struct entry {
    destination dest;
    std::vector<Tag> tags;
  };

  // False when (dest, tag) is already present.
  bool add(destination dest, Tag tag);
  // False when (dest, tag) is not present.
  bool remove(destination dest, const Tag& tag);

  bool empty() const { return entries_.empty(); }
  std::size_t destination_count() const { return entries_.size(); }
  std::size_t binding_count() const { return binding_count_; }
  const std::vector<entry>& entries() const { return entries_; }

  void append_destinations(std::vector<destination>& out) const {
    for (const entry& e : entries_) out.push_back(e.dest);
  }

 private:
  static constexpr std::size_t index_threshold = 16;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  using index_map = std::unordered_map<destination, std::size_t, destination_hash>;

  std::size_t position(destination dest) const;
  void erase_entry(std::size_t i);
  void build_index();

  std::vector<entry> entries_;
  std::unique_ptr<index_map> index_;  // null while the slot is small
  std::size_t binding_count_ = 0;
};

template <class Tag>
bool binding_set<Tag>::add(destination dest, Tag tag) {
  const std::size_t i = position(dest);
  if (i != npos) {
    std::vector<Tag>& tags = entries_[i].tags;
    if (std::find(tags.begin(), tags.end(), tag) != tags.end()) return false;
    tags.push_back(std::move(tag));
  } else {
    entries_.push_back(entry{dest, {}});
    entries_.back().tags.push_back(std::move(tag));
    if (index_)
      index_->emplace(dest, entries_.size() - 1);
    else if (entries_.size() > index_threshold)
      build_index();
  }
  ++binding_count_;
  return true;
}

template <class Tag>
bool binding_set<Tag>::remove(destination dest, const Tag& tag) {
  const std::size_t i = position(dest);
  if (i == npos) return false;
  std::vector<Tag>& tags = entries_[i].tags;
  const auto it = std::find(tags.begin(), tags.end(), tag);
  if (it == tags.end()) return false;
  tags.erase(it);
  --binding_count_;
  if (tags.empty()) erase_entry(i);
  return true;
}

template <class Tag>
std::size_t binding_set<Tag>::position(destination dest) const {
  if (index_) {
    const auto it = index_->find(dest);
    return it == index_->end() ? npos : it->second;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].dest == dest) return i;
  return npos;
}

// Swap-and-pop: route order carries no meaning, and this keeps removal O(1).
template <class Tag>
void binding_set<Tag>::erase_entry(std::size_t i) {
  if (index_) index_->erase(entries_[i].dest);
  if (i + 1 != entries_.size()) {
    entries_[i] = std::move(entries_.back());
    if (index_) (*index_)[entries_[i].dest] = i;
  }
  entries_.pop_back();
  // Hysteresis, so a slot hovering around the threshold does not rebuild on every call.
  if (index_ && entries_.size() < index_threshold / 2) index_.reset();
}

template <class Tag>
void binding_set<Tag>::build_index() {
  auto index = std::make_unique<index_map>();
  index->reserve(entries_.size() * 2);
  for (std::size_t i = 0; i < entries_.size(); ++i) index->emplace(entries_[i].dest, i);
  index_ = std::move(index);
}

}  // namespace roost::routing
