// Permission expressions: see permissions.hpp. They are PCRE, as in
// RabbitMQ, so any expression RabbitMQ accepts (lookahead such as
// "^(?!amq\.).*" included) is accepted and means the same here.
#include "broker/access/permissions.hpp"

namespace roost {

namespace {

// {username} and {vhost} are substituted as they are, not escaped, as RabbitMQ does.
std::string expand(std::string text, std::string_view user, std::string_view vhost) {
  for (auto [variable, value] : {std::pair<std::string_view, std::string_view>{"{username}", user}, {"{vhost}", vhost}})
    for (std::size_t at = text.find(variable); at != std::string::npos; at = text.find(variable, at + value.size()))
      text.replace(at, variable.size(), value);
  return text;
}

}  // namespace

std::string_view access_name(access a) {
  switch (a) {
    case access::configure: return "configure";
    case access::write: return "write";
    case access::read: return "read";
  }
  return "read";
}

name_rule::name_rule(std::string source)
    : source_(std::move(source)),
      compiled_(source_.empty() ? std::string_view("^$") : std::string_view(source_)) {}

bool name_rule::matches(std::string_view name) const {
  return compiled_.search(name);
}

permission_set::permission_set(std::string configure, std::string write, std::string read)
    : rules_{name_rule(std::move(configure)), name_rule(std::move(write)), name_rule(std::move(read))} {}

topic_rules::topic_rules(std::string write, std::string read, std::string_view user, std::string_view vhost)
    : write_source_(std::move(write)),
      read_source_(std::move(read)),
      write_(expand(write_source_, user, vhost)),
      read_(expand(read_source_, user, vhost)) {}

bool topic_rules::allows(access a, std::string_view routing_key) const {
  if (a == access::configure) return true;  // topic permissions restrict write and read only
  return (a == access::write ? write_ : read_).matches(routing_key);
}

std::optional<std::string> check_expression(const std::string& source) {
  try {
    name_rule rule(source);
  } catch (const pattern_error& e) {
    return "invalid regular expression '" + source + "': " + e.what();
  }
  return std::nullopt;
}

}  // namespace roost
