// A regular expression searched in names: permission and topic permission
// expressions, policy patterns, and the admin API's use_regex filter. It is
// PCRE2, because RabbitMQ's are PCRE (Erlang's re): the same syntax
// (lookahead such as "^(?!amq\.).*" included) and the same answers. Names
// are bytes, as re:run sees a binary: no UTF mode, so a name that is not
// UTF-8 is searched like any other.
//
// Matching is bounded: a search that needs more than a fixed amount of work
// (a pattern such as "(a+)+$" backtracks exponentially) answers "no match"
// after about a millisecond instead of holding the broker thread. Names of
// up to 255 bytes never come near the bounds with ordinary patterns.
//
// Compiled once; copies share the compiled pattern and its match block.
// Broker thread only: a search writes the shared match block.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace roost {

// A pattern PCRE2 refuses. what() is the message and the offset;
// message() and offset() give them apart.
class pattern_error : public std::invalid_argument {
 public:
  pattern_error(std::string message, std::size_t offset);
  const std::string& message() const { return message_; }
  std::size_t offset() const { return offset_; }

 private:
  std::string message_;
  std::size_t offset_;
};

class name_pattern {
 public:
  // Throws pattern_error when `source` is not a valid expression.
  explicit name_pattern(std::string_view source);
  // The pattern is found somewhere in `name` (a search, not a full match);
  // false as well when the search ran out of its bounds.
  bool search(std::string_view name) const;

 private:
  struct compiled;
  std::shared_ptr<const compiled> compiled_;
};

}  // namespace roost
