#include "broker/policy/effective.hpp"

#include <algorithm>

namespace roost {

namespace {

using limit = std::optional<std::int64_t>;

limit lowest(limit a, limit b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The argument's, the policy's and the operator policy's: the lowest of those set.
limit lowest(limit declared, limit from_policy, limit from_operator_policy) {
  return lowest(lowest(declared, from_policy), from_operator_policy);
}

template <class T>
std::optional<T> argument_first(const std::optional<T>& argument, const std::optional<T>& from_policy) {
  return argument ? argument : from_policy;
}

const policy_values& values_of(const policy* p) {
  static const policy_values none;
  return p != nullptr ? p->values() : none;
}

}  // namespace

queue_arguments effective_queue_arguments(const queue_arguments& declared, const amqp::field_table& declared_table,
                                          const policy* p, const policy* op) {
  const policy_values& pv = values_of(p);
  const policy_values& ov = values_of(op);
  queue_arguments out = declared;
  out.message_ttl_ms = lowest(declared.message_ttl_ms, pv.message_ttl_ms, ov.message_ttl_ms);
  out.expires_ms = lowest(declared.expires_ms, pv.expires_ms, ov.expires_ms);
  out.max_length = lowest(declared.max_length, pv.max_length, ov.max_length);
  out.max_length_bytes = lowest(declared.max_length_bytes, pv.max_length_bytes, ov.max_length_bytes);
  out.delivery_limit = lowest(declared.delivery_limit, pv.delivery_limit, ov.delivery_limit);
  out.dead_letter_exchange = argument_first(declared.dead_letter_exchange, pv.dead_letter_exchange);
  out.dead_letter_routing_key = argument_first(declared.dead_letter_routing_key, pv.dead_letter_routing_key);
  // queue_arguments has no "absent" overflow (drop-head is the default): the table says whether it was given.
  if (declared_table.find("x-overflow") == nullptr && pv.overflow) out.overflow = *pv.overflow;
  return out;
}

stream_arguments effective_stream_arguments(const stream_arguments& declared, const amqp::field_table& declared_table,
                                            const policy* p, const policy* op) {
  const policy_values& pv = values_of(p);
  const policy_values& ov = values_of(op);
  stream_arguments out = declared;
  out.max_length_bytes = lowest(declared.max_length_bytes, pv.max_length_bytes, ov.max_length_bytes);
  out.max_age_ms = lowest(declared.max_age_ms, pv.max_age_ms, ov.max_age_ms);
  // The segment size has a default: the table says whether the argument was given.
  limit declared_size;
  if (declared_table.find("x-stream-max-segment-size-bytes") != nullptr)
    declared_size = declared.max_segment_size_bytes;
  limit size = lowest(declared_size, pv.stream_max_segment_size_bytes, ov.stream_max_segment_size_bytes);
  out.max_segment_size_bytes = size.value_or(default_segment_size_bytes);
  return out;
}

std::optional<std::string> effective_alternate_exchange(const std::optional<std::string>& declared, const policy* p) {
  if (declared || p == nullptr) return declared;
  return p->values().alternate_exchange;
}

amqp::field_table effective_definition(const policy* p, const policy* op) {
  amqp::field_table out;
  if (p != nullptr) out = p->definition();
  if (op == nullptr) return out;
  for (const amqp::field_entry& e : op->definition().entries) {
    amqp::field_value* mine = out.find(e.name);
    std::int64_t a = 0;
    std::int64_t b = 0;
    // Every operator policy key is a limit: the lower one wins.
    if (mine != nullptr && mine->as_integer(a) && e.value.as_integer(b))
      *mine = std::min(a, b);
    else
      out.set(e.name, e.value);
  }
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const auto& x, const auto& y) { return x.name < y.name; });
  return out;
}

}  // namespace roost
