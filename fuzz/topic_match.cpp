// The topic exchange's word trie against a plain reference matcher.
//
// Input: lines. Those before the first empty line are binding keys, those
// after it routing keys (without an empty line, every line is both). Each
// binding key is bound to its own destination; every routing key must then
// reach exactly the destinations whose key matches it by the rules
// ('*' one word, '#' zero or more, empty words count), each once. Unbinding
// everything must leave the trie as it started: one node, no bindings.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check.hpp"
#include "routing/topic_trie.hpp"

namespace {

using roost::fuzz::require;
namespace routing = roost::routing;

constexpr std::size_t max_keys = 64;
constexpr std::size_t max_key_size = 255;  // a shortstr

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (lines.size() < 2 * max_keys + 1) {
    std::size_t end = text.find('\n');
    lines.push_back(text.substr(0, std::min(end, max_key_size)));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// RabbitMQ's words: none for the empty key, else split on every '.'.
std::vector<std::string_view> words_of(std::string_view key) {
  std::vector<std::string_view> words;
  if (key.empty()) return words;
  for (std::size_t dot; (dot = key.find('.')) != std::string_view::npos; key.remove_prefix(dot + 1))
    words.push_back(key.substr(0, dot));
  words.push_back(key);
  return words;
}

// matches[i * (m + 1) + j]: binding words from i on match routing words
// from j on. Filled backwards, so every '#' costs O(1) per cell: no
// exponential walk. One buffer for every pair: the reference runs 64 x 64
// times per input and would otherwise spend the fuzzer's time allocating
// (the words are split once per key for the same reason).
bool reference_match(const std::vector<std::string_view>& pattern, const std::vector<std::string_view>& words) {
  static std::vector<char> matches;
  std::size_t n = pattern.size(), m = words.size(), row = m + 1;
  matches.assign((n + 1) * row, 0);
  matches[n * row + m] = 1;
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = row; j-- > 0;) {
      char& cell = matches[i * row + j];
      if (pattern[i] == "#") cell = matches[(i + 1) * row + j] || (j < m && matches[i * row + j + 1]);
      else if (j < m && (pattern[i] == "*" || pattern[i] == words[j])) cell = matches[(i + 1) * row + j + 1];
    }
  }
  return matches[0];
}

routing::destination destination_of(std::size_t binding) {
  return {routing::destination_kind::queue, static_cast<std::uint32_t>(binding)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto lines = lines_of(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<std::string_view> bindings, keys;
  std::size_t blank = 0;
  while (blank < lines.size() && !lines[blank].empty()) ++blank;
  bindings.assign(lines.begin(), lines.begin() + std::min(blank, max_keys));
  if (blank < lines.size()) keys.assign(lines.begin() + blank + 1, lines.end());
  else keys = bindings;

  routing::topic_trie trie;
  for (std::size_t i = 0; i < bindings.size(); ++i)
    require(trie.add(bindings[i], destination_of(i), {}), "a new binding is added");
  std::vector<std::vector<std::string_view>> binding_words;
  for (std::string_view binding : bindings) binding_words.push_back(words_of(binding));
  std::vector<routing::destination> out;
  for (std::string_view key : keys) {
    out.clear();
    trie.match(key, out);
    std::set<routing::destination> reached(out.begin(), out.end());
    require(reached.size() == out.size(), "each binding is matched once");
    std::set<routing::destination> expected;
    auto key_words = words_of(key);
    for (std::size_t i = 0; i < bindings.size(); ++i)
      if (reference_match(binding_words[i], key_words)) expected.insert(destination_of(i));
    require(reached == expected, "the trie matches what the rules say");
  }
  for (std::size_t i = 0; i < bindings.size(); ++i)
    require(trie.remove(bindings[i], destination_of(i), {}), "a binding that was added is removed");
  require(trie.node_count() == 1 && trie.binding_count() == 0, "unbinding everything empties the trie");
  return 0;
}
