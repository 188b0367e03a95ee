// The regular expressions that come from outside: permission and topic
// permission expressions (admin API, roostctl, definitions files) and
// policy patterns, compiled with PCRE2 and searched in queue, exchange and
// routing key names on the broker thread.
//
// Input: the first line is the expression, the following lines are names
// (up to 255 bytes, as AMQP's shortstr allows). Whatever the expression,
// validating it must either refuse it with a reason or give a rule that
// answers every search: an expression that an administrator or policymaker
// may set must not be able to crash or hang the broker. Permissions and
// policies share one compiler, so they must agree on what is valid.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/access/permissions.hpp"
#include "broker/common/name_pattern.hpp"
#include "broker/policy/policy.hpp"
#include "fuzz/check.hpp"

namespace {

using namespace roost;

constexpr std::size_t max_names = 16;
constexpr std::size_t max_name_size = 255;

std::vector<std::string_view> names_after_first_line(std::string_view text) {
  std::vector<std::string_view> names;
  std::size_t end = text.find('\n');
  while (end != std::string_view::npos && names.size() < max_names) {
    text.remove_prefix(end + 1);
    end = text.find('\n');
    names.push_back(text.substr(0, std::min(end, max_name_size)));
  }
  return names;
}

// True when the expression is valid.
bool check_permission(const std::string& expression, const std::vector<std::string_view>& names) {
  if (check_expression(expression).has_value()) return false;
  name_rule rule(expression);
  for (std::string_view name : names) (void)rule.matches(name);
  return true;
}

// Refused as the admin API refuses it: after {username} and {vhost} are
// replaced, which may break a valid expression ("\{username}" is "\guest").
void check_topic(const std::string& expression, const std::vector<std::string_view>& names) {
  try {
    topic_rules topic(expression, expression, "guest", "/");
    for (std::string_view name : names) {
      (void)topic.allows(access::write, name);
      (void)topic.allows(access::read, name);
    }
  } catch (const pattern_error&) {
  }
}

// True when the policy (valid but for its pattern) is accepted.
bool check_policy(const std::string& pattern, const std::vector<std::string_view>& names) {
  policy_input in;
  in.vhost = "/";
  in.name = "fuzz";
  in.pattern = pattern;
  in.definition.set("max-length", std::int32_t{1});
  policy_ref p;
  try {
    p = validate_policy(in);
  } catch (const policy_invalid&) {
    return false;
  }
  for (std::string_view name : names) {
    (void)p->applies(name, policy_object::queue);
    (void)p->applies(name, policy_object::exchange);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string expression(text.substr(0, text.find('\n')));
  auto names = names_after_first_line(text);
  bool permission_valid = check_permission(expression, names);
  check_topic(expression, names);
  bool policy_valid = check_policy(expression, names);
  fuzz::require(permission_valid == policy_valid, "permissions and policies disagree on a pattern's validity");
  return 0;
}
