// A policy or an operator policy, as RabbitMQ 3.10 has them: a name, a
// regular expression searched in queue and exchange names, what it applies
// to, a priority and a definition (the keys below). Validation has
// RabbitMQ's texts; a policy that passed it is immutable and shared by the
// queues and exchanges it applies to, so replacing a policy is building a
// new one.
//
// Operator policies are a kind of their own (a policy and an operator
// policy may share a name) and accept only the numeric limits.
//
// Patterns are PCRE, as RabbitMQ's are, searched anywhere in the name
// with a bound on the work (broker/common/name_pattern.hpp). Pure code,
// broker thread only in use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "amqp/field_table.hpp"
#include "broker/common/name_pattern.hpp"
#include "broker/queue/queue_arguments.hpp"
#include "storage/store.hpp"

namespace roost {

enum class policy_kind : std::uint8_t { regular, operator_policy };
enum class policy_target : std::uint8_t { queues, exchanges, all };
enum class policy_object : std::uint8_t { queue, exchange };

std::string_view target_name(policy_target t);

// The definition's keys, typed; absent means the policy does not set it.
struct policy_values {
  std::optional<std::int64_t> message_ttl_ms;
  std::optional<std::int64_t> expires_ms;
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> max_length_bytes;
  std::optional<std::int64_t> delivery_limit;
  std::optional<overflow_mode> overflow;
  std::optional<std::string> dead_letter_exchange;
  std::optional<std::string> dead_letter_routing_key;
  std::optional<std::string> alternate_exchange;
  // Streams' retention and segment size.
  std::optional<std::int64_t> max_age_ms;
  std::optional<std::int64_t> stream_max_segment_size_bytes;
  bool operator==(const policy_values&) const = default;
};

// What an operator asks for, before validation: the fields of RabbitMQ's
// PUT /api/policies/{vhost}/{name} body (or of a definitions file's
// "policies" entry) as field values, so that wrong types are reported as
// RabbitMQ reports them. An absent apply-to is "all", an absent priority 0.
struct policy_input {
  std::string vhost;
  std::string name;
  policy_kind kind = policy_kind::regular;
  amqp::field_value pattern;
  std::optional<amqp::field_value> apply_to;
  std::optional<amqp::field_value> priority;
  amqp::field_table definition;
};

// A refused policy. what() is RabbitMQ's text after "Validation failed\n\n":
// one line per refused field (definition, apply-to, pattern, priority, in
// that order), each ending in '\n'.
class policy_invalid : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class policy {
 public:
  const std::string& vhost() const { return vhost_; }
  const std::string& name() const { return name_; }
  policy_kind kind() const { return kind_; }
  const std::string& pattern() const { return pattern_; }
  policy_target apply_to() const { return apply_to_; }
  std::int64_t priority() const { return priority_; }
  // Sorted by key, as RabbitMQ lists it.
  const amqp::field_table& definition() const { return definition_; }
  const policy_values& values() const { return values_; }

  // The pattern is found in the name (a search, not a full match) and the policy applies to that kind of object.
  bool applies(std::string_view object_name, policy_object object) const;
  // Wins over `other` where both apply: a higher priority; on a tie the
  // name that sorts first (RabbitMQ leaves ties to its table's hash order,
  // the same whatever order the policies were set in; Roost makes it the name).
  bool outranks(const policy& other) const;
  // Same pattern, target, priority and definition: re-setting it changes nothing.
  bool same_effect(const policy& other) const;

  storage::policy_record record() const;

 private:
  friend std::shared_ptr<const policy> validate_policy(const policy_input& in);
  policy() = default;

  std::string vhost_;
  std::string name_;
  policy_kind kind_ = policy_kind::regular;
  std::string pattern_;
  // Set by validation: a policy is never without it.
  std::optional<name_pattern> regex_;
  policy_target apply_to_ = policy_target::all;
  std::int64_t priority_ = 0;
  amqp::field_table definition_;
  policy_values values_;
};

using policy_ref = std::shared_ptr<const policy>;

// Checks everything RabbitMQ checks, in its order, and builds the policy;
// throws policy_invalid with RabbitMQ's text.
policy_ref validate_policy(const policy_input& in);
// A stored policy (validated when it was set); throws policy_invalid if it no longer passes.
policy_ref policy_from_record(const storage::policy_record& r);

}  // namespace roost
