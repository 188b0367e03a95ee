// Policy validation in RabbitMQ 3.10's order and words (rabbit_policy,
// rabbit_policies, rabbit_parameter_validation), measured on a real node:
// every refused field is listed, definition first, then apply-to, pattern
// and priority; within the definition the keys are checked in sorted order
// and only the first bad value is told, then the unknown keys all at once.
#include "broker/policy/policy.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "amqp/wire.hpp"
#include "broker/policy/erlang_term.hpp"
#include "broker/stream/stream_arguments.hpp"

namespace roost {

namespace {

using amqp::field_value;

bool is_integer(const field_value& v, std::int64_t& out) {
  if (v.get_if<bool>() != nullptr) return false;
  return v.as_integer(out);
}

std::string invalid(const field_value& v, std::string_view what) {
  return erlang::flat(v) + " is not a valid " + std::string(what);
}

// rabbit_policies:validate_policy0 for one key; empty when the value is good.
using key_check = std::string (*)(const field_value& v, policy_values& out);

std::optional<std::int64_t> at_least(const field_value& v, std::int64_t least) {
  std::int64_t n = 0;
  if (!is_integer(v, n) || n < least) return std::nullopt;
  return n;
}

std::string check_string(const field_value& v, std::optional<std::string>& out, std::string_view what) {
  const std::string* s = v.get_if<std::string>();
  if (s == nullptr) return invalid(v, what);
  out = *s;
  return {};
}

std::string check_number(const field_value& v, std::optional<std::int64_t>& out, std::int64_t least,
                         std::string_view what) {
  out = at_least(v, least);
  return out ? std::string() : invalid(v, what);
}

struct known_key {
  std::string_view name;
  bool operator_allowed;
  key_check check;
};

// Sorted by name; the operator policy keys are those RabbitMQ 3.10 registers as operator_policy_validator.
constexpr known_key known_keys[] = {
    {"alternate-exchange", false,
     [](const field_value& v, policy_values& o) {
       return check_string(v, o.alternate_exchange, "alternate exchange name");
     }},
    {"dead-letter-exchange", false,
     [](const field_value& v, policy_values& o) {
       return check_string(v, o.dead_letter_exchange, "dead letter exchange name");
     }},
    {"dead-letter-routing-key", false,
     [](const field_value& v, policy_values& o) {
       return check_string(v, o.dead_letter_routing_key, "dead letter routing key");
     }},
    {"delivery-limit", true,
     [](const field_value& v, policy_values& o) { return check_number(v, o.delivery_limit, 0, "delivery limit"); }},
    {"expires", true,
     [](const field_value& v, policy_values& o) { return check_number(v, o.expires_ms, 1, "queue expiry"); }},
    {"max-age", false,
     [](const field_value& v, policy_values& o) {
       const std::string* s = v.get_if<std::string>();
       o.max_age_ms = s != nullptr ? parse_age(*s) : std::nullopt;
       return o.max_age_ms ? std::string() : invalid(v, "max age");
     }},
    {"max-length", true,
     [](const field_value& v, policy_values& o) { return check_number(v, o.max_length, 0, "maximum length"); }},
    {"max-length-bytes", true,
     [](const field_value& v, policy_values& o) {
       return check_number(v, o.max_length_bytes, 0, "maximum length in bytes");
     }},
    {"message-ttl", true,
     [](const field_value& v, policy_values& o) { return check_number(v, o.message_ttl_ms, 0, "message TTL"); }},
    {"overflow", false,
     [](const field_value& v, policy_values& o) {
       const std::string* s = v.get_if<std::string>();
       if (s != nullptr && *s == "drop-head")
         o.overflow = overflow_mode::drop_head;
       else if (s != nullptr && *s == "reject-publish")
         o.overflow = overflow_mode::reject_publish;
       else if (s != nullptr && *s == "reject-publish-dlx")
         o.overflow = overflow_mode::reject_publish_dlx;
       else
         return invalid(v, "overflow value");
       return std::string();
     }},
    {"stream-max-segment-size-bytes", false,
     [](const field_value& v, policy_values& o) {
       return check_number(v, o.stream_max_segment_size_bytes, 0, "segment size");
     }},
};

const known_key* find_key(std::string_view name, policy_kind kind) {
  for (const known_key& k : known_keys)
    if (k.name == name) return kind == policy_kind::regular || k.operator_allowed ? &k : nullptr;
  return nullptr;
}

// The definition, sorted; returns the error line (without '\n') or empty.
std::string check_definition(amqp::field_table& definition, policy_kind kind, policy_values& values) {
  if (definition.empty()) return "no policy provided";
  std::stable_sort(definition.entries.begin(), definition.entries.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  erlang::term_list unknown;
  for (const amqp::field_entry& e : definition.entries) {
    const known_key* key = find_key(e.name, kind);
    if (key == nullptr) {
      unknown.push_back(erlang::tuple({erlang::text(erlang::flat(field_value(e.name))), erlang::of(e.value)}));
      continue;
    }
    std::string problem = key->check(e.value, values);
    if (!problem.empty()) return problem;
  }
  if (unknown.empty()) return {};
  return erlang::pretty(erlang::list(std::move(unknown)), 0) + " are not recognised policy settings";
}

std::string check_apply_to(const std::optional<field_value>& v, policy_target& out) {
  if (!v) return {};
  const std::string* s = v->get_if<std::string>();
  if (s != nullptr && *s == "queues")
    out = policy_target::queues;
  else if (s != nullptr && *s == "exchanges")
    out = policy_target::exchanges;
  else if (s != nullptr && *s == "all")
    out = policy_target::all;
  else
    return "apply-to '" + (s != nullptr ? *s : erlang::flat(*v)) +
           "' unrecognised; should be 'queues', 'exchanges' or 'all'";
  return {};
}

struct pcre_error {
  std::string message;
  std::size_t offset = 0;
};

// A {} count read as PCRE 8 reads it, digit by digit from offset `at`: its
// value, or the offset just past the digit that took it over 65535, where
// PCRE 8 stops with "number too big in {} quantifier".
struct repeat_count {
  std::uint32_t value = 0;
  std::optional<std::size_t> too_big_at;
};

repeat_count read_count(std::string_view digits, std::size_t at) {
  repeat_count count;
  for (char d : digits) {
    count.value = count.value * 10 + static_cast<std::uint32_t>(d - '0');
    ++at;
    if (count.value > 65535) {
      count.too_big_at = at;
      break;
    }
  }
  return count;
}

// The first of the common mistakes PCRE reports, scanning as it does (left
// to right); nothing when the pattern has none of them.
std::optional<pcre_error> pcre_problem(const std::string& p) {
  std::vector<std::size_t> open;
  bool can_repeat = false;  // there is an atom before this point
  bool after_quantifier = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    bool quantified = false;
    if (c == '\\') {
      if (i + 1 == p.size()) return pcre_error{"\\ at end of pattern", p.size()};
      ++i;
      can_repeat = true;
    } else if (c == '[') {
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a ']' first is a literal
      while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
      if (j >= p.size()) return pcre_error{"missing terminating ] for character class", p.size()};
      i = j;
      can_repeat = true;
    } else if (c == '(') {
      open.push_back(i);
      if (i + 1 < p.size() && p[i + 1] == '?') ++i;
      can_repeat = false;
    } else if (c == ')') {
      if (open.empty()) return pcre_error{"unmatched parentheses", i};
      open.pop_back();
      can_repeat = true;
    } else if (c == '|') {
      can_repeat = false;
    } else if (c == '*' || c == '+' || c == '?') {
      bool modifier = after_quantifier && c != '*';  // lazy or possessive
      if (!modifier && (!can_repeat || after_quantifier)) return pcre_error{"nothing to repeat", i};
      quantified = !modifier;
    } else if (c == '{') {
      std::size_t close = p.find('}', i);
      std::string inside = close == std::string::npos ? "" : p.substr(i + 1, close - i - 1);
      std::size_t comma = inside.find(',');
      auto digits = [](std::string_view d) { return !d.empty() && d.find_first_not_of("0123456789") == d.npos; };
      std::string low = inside.substr(0, comma);
      std::string high = comma == std::string::npos ? "" : inside.substr(comma + 1);
      if (digits(low) && (comma == std::string::npos || high.empty() || digits(high))) {
        repeat_count min = read_count(low, i + 1);
        repeat_count max = read_count(high, i + 2 + low.size());
        for (const repeat_count& n : {min, max})
          if (n.too_big_at) return pcre_error{"number too big in {} quantifier", *n.too_big_at};
        if (!high.empty() && max.value < min.value) return pcre_error{"numbers out of order in {} quantifier", close};
        if (!can_repeat) return pcre_error{"nothing to repeat", i};
        i = close;
        quantified = true;
      } else {
        can_repeat = true;  // a literal '{'
      }
    } else {
      can_repeat = c != '^' && c != '$' ? true : can_repeat;
    }
    after_quantifier = quantified;
  }
  if (!open.empty()) return pcre_error{"missing )", p.size()};
  return std::nullopt;
}

// RabbitMQ prints {Message, Offset} from Erlang's re, which is PCRE 8 in
// the OTP releases RabbitMQ 3.10 runs on. PCRE2 words its messages
// differently ("missing closing parenthesis" for "missing )"), so the
// common mistakes are told in PCRE 8's words, found the way it finds them,
// and the rest in PCRE2's.
std::string regex_problem(const std::string& pattern, const pattern_error& e) {
  pcre_error problem = pcre_problem(pattern).value_or(pcre_error{e.message(), e.offset()});
  std::string prefix = "pattern should be regular expression but is invalid: ";
  // PCRE's message is a charlist, printed "text": the binary form without its << >>.
  std::string quoted = erlang::flat(field_value(problem.message));
  erlang::term t =
      erlang::tuple({erlang::text(quoted.substr(2, quoted.size() - 4)), erlang::text(std::to_string(problem.offset))});
  return prefix + erlang::pretty(t, prefix.size());
}

std::string check_pattern(const field_value& v, std::string& pattern, std::optional<name_pattern>& regex) {
  const std::string* s = v.get_if<std::string>();
  if (s == nullptr) return "pattern should be a binary but was " + erlang::flat(v);
  pattern = *s;
  try {
    regex.emplace(pattern);
  } catch (const pattern_error& e) {
    return regex_problem(pattern, e);
  }
  return {};
}

std::string check_priority(const std::optional<field_value>& v, std::int64_t& out) {
  if (!v) return {};
  if (v->get_if<bool>() == nullptr && v->as_integer(out)) return {};
  double d = 0;
  if (v->get_if<bool>() == nullptr && v->as_number(d)) {
    // RabbitMQ takes any number; Roost stores whole priorities (an integral float is fine).
    if (std::trunc(d) == d && std::fabs(d) < 9.0e18) {
      out = static_cast<std::int64_t>(d);
      return {};
    }
    return "priority should be an integer, actually was " + erlang::flat(*v);
  }
  return "priority should be a number, actually was " + erlang::flat(*v);
}

}  // namespace

std::string_view target_name(policy_target t) {
  switch (t) {
    case policy_target::queues:
      return "queues";
    case policy_target::exchanges:
      return "exchanges";
    default:
      return "all";
  }
}

bool policy::applies(std::string_view object_name, policy_object object) const {
  if (apply_to_ == policy_target::queues && object != policy_object::queue) return false;
  if (apply_to_ == policy_target::exchanges && object != policy_object::exchange) return false;
  return regex_->search(object_name);
}

bool policy::outranks(const policy& other) const {
  if (priority_ != other.priority_) return priority_ > other.priority_;
  return name_ < other.name_;
}

bool policy::same_effect(const policy& other) const {
  return pattern_ == other.pattern_ && apply_to_ == other.apply_to_ && priority_ == other.priority_ &&
         definition_ == other.definition_;
}

storage::policy_record policy::record() const {
  return {vhost_,
          name_,
          kind_ == policy_kind::operator_policy,
          pattern_,
          std::string(target_name(apply_to_)),
          priority_,
          amqp::encode_table(definition_)};
}

policy_ref validate_policy(const policy_input& in) {
  std::shared_ptr<policy> p(new policy());
  p->vhost_ = in.vhost;
  p->name_ = in.name;
  p->kind_ = in.kind;
  p->definition_ = in.definition;
  std::string lines;
  for (const std::string& problem :
       {check_definition(p->definition_, in.kind, p->values_), check_apply_to(in.apply_to, p->apply_to_),
        check_pattern(in.pattern, p->pattern_, p->regex_), check_priority(in.priority, p->priority_)})
    if (!problem.empty()) lines += problem + "\n";
  if (!lines.empty()) throw policy_invalid(lines);
  return p;
}

policy_ref policy_from_record(const storage::policy_record& r) {
  policy_input in;
  in.vhost = r.vhost;
  in.name = r.name;
  in.kind = r.operator_policy ? policy_kind::operator_policy : policy_kind::regular;
  in.pattern = r.pattern;
  in.apply_to = field_value(r.apply_to);
  in.priority = field_value(r.priority);
  try {
    in.definition = amqp::decode_table(r.definition);
  } catch (const amqp::decode_error& e) {
    throw policy_invalid(std::string("unreadable definition: ") + e.what() + "\n");
  }
  return validate_policy(in);
}

}  // namespace roost
