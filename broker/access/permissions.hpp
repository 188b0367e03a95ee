// What a user may do in a vhost, as RabbitMQ's internal authorisation
// backend decides it: for each kind of access (configure, write, read) a
// regular expression that a resource's name must match (a search, not a
// full match: "^amq\." matches names that start with amq.), where the empty
// expression stands for "^$", as in RabbitMQ. That grants nothing: no
// resource is checked under the empty name (the channel checks the default
// exchange as amq.default, as RabbitMQ does). Topic permissions add, per topic exchange,
// expressions over routing keys for publishing (write) and binding (read),
// with {username} and {vhost} expanded to the user and vhost they belong to.
//
// Compiled once, when set; a check is a bounded PCRE search
// (broker/common/name_pattern.hpp). Callers on the hot
// path (publish) cache their last answer against access_control::version().
// Pure code.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "broker/common/name_pattern.hpp"

namespace roost {

enum class access { configure, write, read };

std::string_view access_name(access a);

// One regular expression over names, compiled once; "" is read as "^$".
class name_rule {
 public:
  // Throws pattern_error when `source` is not a valid expression.
  explicit name_rule(std::string source);
  bool matches(std::string_view name) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  name_pattern compiled_;
};

// A user's permissions in one vhost.
class permission_set {
 public:
  // Throws pattern_error for an invalid expression; check_expression says which one is bad.
  permission_set(std::string configure, std::string write, std::string read);
  bool allows(access a, std::string_view resource) const { return rules_[index(a)].matches(resource); }
  const std::string& source(access a) const { return rules_[index(a)].source(); }

 private:
  static std::size_t index(access a) { return static_cast<std::size_t>(a); }
  std::array<name_rule, 3> rules_;
};

// A user's topic permissions on one exchange of one vhost (write and read only).
class topic_rules {
 public:
  // The sources are kept as given (for listing); they are compiled with
  // {username} and {vhost} replaced by `user` and `vhost`.
  topic_rules(std::string write, std::string read, std::string_view user, std::string_view vhost);
  bool allows(access a, std::string_view routing_key) const;
  const std::string& write_source() const { return write_source_; }
  const std::string& read_source() const { return read_source_; }

 private:
  std::string write_source_;
  std::string read_source_;
  name_rule write_;
  name_rule read_;
};

// Nothing when `source` is a valid expression; else why not, for a 400 or a CLI error.
std::optional<std::string> check_expression(const std::string& source);

}  // namespace roost
