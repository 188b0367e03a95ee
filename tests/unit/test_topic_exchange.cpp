// Unit tests for routing/topic_trie and routing/topic_exchange: RabbitMQ's
// word rules (empty words, the empty key), '*' and '#' anywhere, a randomised
// cross-check against a simple reference matcher, pathological keys that are
// exponential for a naive walk, and trie pruning under bind/unbind churn.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>

#include "routing/topic_exchange.hpp"
#include "tests/unit/routing_test_support.hpp"

using namespace roost;
using namespace roost::routing;

namespace {

using test::queue;
using test::route;

std::vector<std::string> reference_split(const std::string& key) {
  std::vector<std::string> words;
  if (key.empty()) return words;
  std::size_t start = 0;
  for (std::size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1)
    words.push_back(key.substr(start, dot - start));
  words.push_back(key.substr(start));
  return words;
}

// Textbook dynamic programme over (pattern word, key word); slow but obviously right.
bool reference_match(const std::string& pattern, const std::string& key) {
  const auto p = reference_split(pattern);
  const auto k = reference_split(key);
  // ok[i][j]: pattern words from i match key words from j.
  std::vector<std::vector<char>> ok(p.size() + 1, std::vector<char>(k.size() + 1, 0));
  ok[p.size()][k.size()] = 1;
  for (std::size_t i = p.size(); i-- > 0;) {
    for (std::size_t j = k.size() + 1; j-- > 0;) {
      if (p[i] == "#")
        ok[i][j] = ok[i + 1][j] || (j < k.size() && ok[i][j + 1]);
      else
        ok[i][j] = j < k.size() && (p[i] == "*" || p[i] == k[j]) && ok[i + 1][j + 1];
    }
  }
  return ok[0][0] != 0;
}

std::string join_words(std::size_t count, std::string_view word) {
  std::string key;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) key += '.';
    key += word;
  }
  return key;
}

struct topic_case {
  const char* pattern;
  const char* key;
  bool matches;
};

const topic_case cases[] = {
    // '#' matches zero words, including the empty key (which has no words).
    {"#", "", true},
    {"#", "a", true},
    {"#", "a.b.c", true},
    {"#", ".", true},
    {"a.#", "a", true},
    {"a.#", "a.b.c", true},
    {"a.#", "ab", false},
    {"#.b", "b", true},
    {"#.b", "a.b", true},
    {"#.b", "b.a", false},
    {"#.*", "", false},
    {"#.*", "a", true},
    // '*' is exactly one word; empty words are words.
    {"*", "", false},
    {"*", "a", true},
    {"*", "a.b", false},
    {"*", ".", false},
    {"*.*", "a.b", true},
    {"*.*", "a", false},
    {"*.*", "a.b.c", false},
    {"*.*", "", false},
    {"*.*", ".", true},
    {"*.*", "a.", true},
    {"a.*", "a.", true},
    {"a.*", "a", false},
    {"*.b.*", "a.b.c", true},
    // The empty binding key matches only the empty routing key.
    {"", "", true},
    {"", "a", false},
    {"", ".", false},
    {"a", "", false},
    {".", ".", true},
    {".", "", false},
    // Empty words match literally.
    {"a..b", "a..b", true},
    {"a..b", "a.b", false},
    {"a.*.b", "a..b", true},
    {"a.#.b", "a..b", true},
    // '#' in the middle, with backtracking.
    {"a.#.b", "a.b", true},
    {"a.#.b", "a.x.b", true},
    {"a.#.b", "a.x.y.b", true},
    {"a.#.b", "a.b.b", true},
    {"a.#.b", "a.b.c", false},
    {"a.#.b", "b.a.b", false},
    {"a.#.b", "a", false},
    {"a.#.#.b", "a.b", true},
    {"a.#.#.b", "a.x.y.z.b", true},
    {"#.#", "", true},
    {"#.#", "a", true},
    {"#.#", "a.b.c", true},
    {"#.a.#", "a", true},
    {"#.a.#", "x.a.y", true},
    {"#.a.#", "a.a.a", true},
    {"#.a.#", "x.y", false},
    {"#.b.#.b", "b", false},
    {"#.b.#.b", "b.b", true},
    {"#.b.#.b", "x.b.y.b", true},
    {"#.b.#.b", "x.b.y.b.z", false},
    {"a.*.#", "a", false},
    {"a.*.#", "a.b", true},
    {"a.*.#", "a.b.c.d", true},
    {"*.#.*", "a", false},
    {"*.#.*", "a.b", true},
    {"*.#.*", "a.b.c.d", true},
    // Wildcard characters inside a word are literal; in a routing key they are
    // plain words that only a wildcard (or the same literal) matches.
    {"a#", "a#", true},
    {"a#", "abc", false},
    {"a*", "ab", false},
    {"a.*", "a.*", true},
    {"a.b", "a.*", false},
    {"a.#", "a.#", true},
    {"a.x", "a.#", false},
    // Case-sensitive.
    {"A.b", "a.b", false},
};

}  // namespace

TEST_CASE("split_topic_key follows RabbitMQ's split_topic_key") {
  std::vector<std::string_view> words{"stale"};
  split_topic_key("", words);
  CHECK(words.empty());
  split_topic_key("a", words);
  CHECK(words == std::vector<std::string_view>{"a"});
  split_topic_key("a..b", words);
  CHECK(words == std::vector<std::string_view>{"a", "", "b"});
  split_topic_key(".", words);
  CHECK(words == std::vector<std::string_view>{"", ""});
  split_topic_key("a.", words);
  CHECK(words == std::vector<std::string_view>{"a", ""});
  split_topic_key(".a", words);
  CHECK(words == std::vector<std::string_view>{"", "a"});
}

TEST_CASE("topic: pattern table, one binding at a time") {
  for (const topic_case& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.key);
    REQUIRE(reference_match(c.pattern, c.key) == c.matches);  // the table and the reference agree
    topic_exchange x;
    REQUIRE(x.bind(queue(1), c.pattern, {}));
    const auto out = route(x, c.key);
    // A match emits the binding exactly once, however many ways '#' can split the key.
    CHECK(out.size() == (c.matches ? 1U : 0U));
  }
}

TEST_CASE("topic: pattern table, all bindings in one trie") {
  topic_exchange x;
  std::vector<std::string> patterns;
  for (const topic_case& c : cases)
    if (std::find(patterns.begin(), patterns.end(), c.pattern) == patterns.end()) patterns.push_back(c.pattern);
  for (std::uint32_t i = 0; i < patterns.size(); ++i) REQUIRE(x.bind(queue(i), patterns[i], {}));

  for (const topic_case& c : cases) {
    CAPTURE(c.key);
    std::vector<destination> expected;
    for (std::uint32_t i = 0; i < patterns.size(); ++i)
      if (reference_match(patterns[i], c.key)) expected.push_back(queue(i));
    CHECK(route(x, c.key) == expected);
  }
}

TEST_CASE("topic: randomised cross-check against the reference matcher") {
  std::mt19937 rng(20240607);
  const char* pattern_words[] = {"a", "b", "", "*", "#"};
  const char* key_words[] = {"a", "b", "", "*"};
  auto random_key = [&rng](const char* const* alphabet, std::size_t size, std::size_t max_words) {
    const std::size_t count = std::uniform_int_distribution<std::size_t>(0, max_words)(rng);
    std::string key;
    for (std::size_t i = 0; i < count; ++i) {
      if (i != 0) key += '.';
      key += alphabet[std::uniform_int_distribution<std::size_t>(0, size - 1)(rng)];
    }
    return key;
  };

  topic_exchange x;
  std::vector<std::string> patterns;
  for (std::uint32_t i = 0; i < 300; ++i) {
    patterns.push_back(random_key(pattern_words, 5, 6));
    CHECK(x.bind(queue(i), patterns.back(), {}));  // ids are distinct, so never a duplicate
  }
  for (int round = 0; round < 2000; ++round) {
    const std::string key = random_key(key_words, 4, 8);
    CAPTURE(key);
    std::vector<destination> expected;
    for (std::uint32_t i = 0; i < patterns.size(); ++i)
      if (reference_match(patterns[i], key)) expected.push_back(queue(i));
    REQUIRE(route(x, key) == expected);
  }
}

TEST_CASE("topic: very long keys do not blow up") {
  const std::string long_key = join_words(128, "a");  // 255 bytes, 128 words
  REQUIRE(long_key.size() == 255);
  const std::string empty_words(255, '.');             // 256 empty words
  const std::string many_hashes = join_words(40, "#");

  topic_exchange x;
  // Each of these makes a naive backtracking walk exponential on long_key.
  REQUIRE(x.bind(queue(1), many_hashes + ".b", {}));                     // no match
  REQUIRE(x.bind(queue(2), join_words(20, "#.a") + ".#.c", {}));         // no match
  REQUIRE(x.bind(queue(3), many_hashes, {}));                            // matches anything
  REQUIRE(x.bind(queue(4), join_words(30, "*.#") + ".a", {}));           // needs >= 31 words ending in a
  REQUIRE(x.bind(queue(5), join_words(128, "*"), {}));                   // exactly 128 words
  REQUIRE(x.bind(queue(6), join_words(129, "*"), {}));                   // one word too many
  REQUIRE(x.bind(queue(7), "#." + join_words(127, "a"), {}));            // suffix
  REQUIRE(x.bind(queue(8), join_words(256, "*"), {}));                   // the 256 empty words

  const auto start = std::chrono::steady_clock::now();
  CHECK(route(x, long_key) == std::vector{queue(3), queue(4), queue(5), queue(7)});
  CHECK(route(x, empty_words) == std::vector{queue(3), queue(8)});
  CHECK(route(x, "a") == std::vector{queue(3)});
  CHECK(route(x, "") == std::vector{queue(3)});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Polynomial work is a few milliseconds even unoptimised under sanitizers;
  // an exponential walk would not finish at all.
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("topic: many bindings") {
  topic_exchange x;
  constexpr std::uint32_t n = 5000;
  for (std::uint32_t i = 0; i < n; ++i) {
    REQUIRE(x.bind(queue(i), "region" + std::to_string(i) + ".#", {}));
    REQUIRE(x.bind(queue(n + i), "*.service" + std::to_string(i), {}));
  }
  CHECK(x.trie().binding_count() == 2 * n);
  CHECK(route(x, "region42.service7") == std::vector{queue(42), queue(n + 7)});
  CHECK(route(x, "region42") == std::vector{queue(42)});
  CHECK(route(x, "x.service4999") == std::vector{queue(n + 4999)});
  CHECK(route(x, "region5000.x").empty());
}

TEST_CASE("topic: binding identity and missing unbinds") {
  topic_exchange x;
  const amqp::field_table args{{{"k", "v"}, {"a", std::int8_t{1}}}};
  const amqp::field_table reordered{{{"a", std::int8_t{1}}, {"k", "v"}}};
  CHECK(x.bind(queue(1), "a.*", {}));
  CHECK_FALSE(x.bind(queue(1), "a.*", {}));
  CHECK(x.bind(queue(1), "a.*", args));
  CHECK_FALSE(x.bind(queue(1), "a.*", reordered));
  CHECK(route(x, "a.b") == std::vector{queue(1)});  // two bindings on one node: routed once

  const std::size_t nodes = x.trie().node_count();
  CHECK_FALSE(x.unbind(queue(2), "a.*", {}));
  CHECK_FALSE(x.unbind(queue(1), "a", {}));
  CHECK_FALSE(x.unbind(queue(1), "a.*.c", {}));
  CHECK_FALSE(x.unbind(queue(1), "a.#", {}));
  CHECK_FALSE(x.unbind(queue(1), "a.*", amqp::field_table{{{"k", "v"}}}));
  CHECK(x.trie().node_count() == nodes);
  CHECK(x.unbind(queue(1), "a.*", reordered));
  CHECK(x.unbind(queue(1), "a.*", {}));
  CHECK(route(x, "a.b").empty());
}

TEST_CASE("topic: unbind prunes exactly the nodes nothing else uses") {
  topic_exchange x;
  CHECK(x.trie().node_count() == 1);
  CHECK(x.bind(queue(1), "a.b.c", {}));
  CHECK(x.bind(queue(2), "a.b", {}));
  CHECK(x.bind(queue(3), "a.#", {}));
  CHECK(x.bind(queue(4), "", {}));
  CHECK(x.trie().node_count() == 5);  // root, a, a.b, a.b.c, a.#

  CHECK(x.unbind(queue(1), "a.b.c", {}));
  CHECK(x.trie().node_count() == 4);
  CHECK(route(x, "a.b") == std::vector{queue(2), queue(3)});
  CHECK(x.unbind(queue(3), "a.#", {}));
  CHECK(x.trie().node_count() == 3);
  CHECK(route(x, "a.b") == std::vector{queue(2)});
  CHECK(x.unbind(queue(2), "a.b", {}));
  CHECK(x.trie().node_count() == 1);
  CHECK(route(x, "") == std::vector{queue(4)});  // root bindings survive their subtree
  CHECK(x.unbind(queue(4), "", {}));
  CHECK(x.trie().node_count() == 1);
  CHECK(x.trie().binding_count() == 0);
}

TEST_CASE("topic: bind/unbind churn does not grow the trie") {
  std::mt19937 rng(7);
  const char* words[] = {"a", "b", "c", "", "*", "#"};
  auto random_key = [&rng, &words](int alphabet) {
    std::string key;
    const int count = std::uniform_int_distribution<int>(0, 7)(rng);
    for (int w = 0; w < count; ++w) {
      if (w != 0) key += '.';
      key += words[std::uniform_int_distribution<int>(0, alphabet - 1)(rng)];
    }
    return key;
  };
  topic_exchange x;
  CHECK(x.bind(queue(0), "keep.#", {}));
  const std::size_t baseline = x.trie().node_count();

  for (int round = 0; round < 200; ++round) {
    // Bind patterns[i] to queue i + 1, then check routing against the
    // reference while nodes (and '#' visit slots) freed last round are reused.
    std::vector<std::string> patterns;
    for (std::uint32_t i = 0; i < 50; ++i) {
      patterns.push_back(random_key(6));
      REQUIRE(x.bind(queue(i + 1), patterns.back(), {}));
    }
    for (int probe = 0; probe < 20; ++probe) {
      const std::string key = probe == 0 ? "keep.it" : random_key(4);
      CAPTURE(key);
      std::vector<destination> expected;
      if (reference_match("keep.#", key)) expected.push_back(queue(0));
      for (std::uint32_t i = 0; i < patterns.size(); ++i)
        if (reference_match(patterns[i], key)) expected.push_back(queue(i + 1));
      REQUIRE(route(x, key) == expected);
    }
    std::vector<std::uint32_t> order(patterns.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::uint32_t i : order) REQUIRE(x.unbind(queue(i + 1), patterns[i], {}));
    REQUIRE(x.trie().node_count() == baseline);
  }
  CHECK(x.trie().binding_count() == 1);
  CHECK(route(x, "keep") == std::vector{queue(0)});
}

TEST_CASE("topic: make_router builds one") {
  auto router = make_router("topic");
  REQUIRE(router != nullptr);
  CHECK(router->bind(queue(1), "*.x", {}));
  CHECK(route(*router, "a.x") == std::vector{queue(1)});
  CHECK(route(*router, "x").empty());
  CHECK_FALSE(router->needs_headers());
}
