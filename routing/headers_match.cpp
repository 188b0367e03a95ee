// Headers-exchange matching: x-match modes, header lookup with last-wins
// duplicates, and RabbitMQ's untyped value equality (see headers_match.hpp).
#include "routing/headers_match.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

namespace roost::routing {

namespace {

// An integer as Erlang holds it, sign and magnitude, so int64 values and
// uint64 timestamps compare exactly.
struct wide_integer {
  bool negative = false;
  std::uint64_t magnitude = 0;
  bool operator==(const wide_integer&) const = default;
};

// header_side applies RabbitMQ's seconds-to-milliseconds conversion of
// timestamp headers. A product past 2^64 can equal no binding argument (none
// exceeds a uint64 timestamp), so it is reported as no integer at all.
std::optional<wide_integer> integer_value(const amqp::field_value& v, bool header_side) {
  std::int64_t i = 0;
  if (v.as_integer(i)) {
    if (i < 0) return wide_integer{true, 0 - static_cast<std::uint64_t>(i)};
    return wide_integer{false, static_cast<std::uint64_t>(i)};
  }
  const auto* ts = v.get_if<amqp::timestamp_value>();
  if (ts == nullptr) return std::nullopt;
  if (!header_side) return wide_integer{false, ts->seconds};
  if (ts->seconds > std::numeric_limits<std::uint64_t>::max() / 1000) return std::nullopt;
  return wide_integer{false, ts->seconds * 1000};
}

std::optional<double> float_value(const amqp::field_value& v) {
  if (const auto* f = v.get_if<float>()) return static_cast<double>(*f);
  if (const auto* d = v.get_if<double>()) return *d;
  return std::nullopt;
}

bool is_list(const amqp::field_value& v) {
  return v.get_if<amqp::field_table>() != nullptr || v.get_if<amqp::field_array>() != nullptr;
}

bool list_empty(const amqp::field_value& v) {
  if (const auto* t = v.get_if<amqp::field_table>()) return t->empty();
  return v.get_if<amqp::field_array>()->empty();
}

// Inside tables and arrays Erlang keeps the type tags, so nested values
// compare typed, which is plain variant equality.
bool lists_equal(const amqp::field_value& bound, const amqp::field_value& header) {
  if (!is_list(header)) return false;
  if (list_empty(bound) && list_empty(header)) return true;
  return bound == header;
}

template <class T>
bool same_alternative_equal(const amqp::field_value& bound, const amqp::field_value& header) {
  const T* h = header.get_if<T>();
  return h != nullptr && *bound.get_if<T>() == *h;
}

bool is_skipped(std::string_view name, match_mode mode) {
  const bool with_x = mode == match_mode::all_with_x || mode == match_mode::any_with_x;
  return with_x ? name == "x-match" : name.starts_with("x-");
}

bool argument_matches(const amqp::field_entry& argument, const header_view& headers) {
  const amqp::field_value* header = headers.find(argument.name);
  if (header == nullptr) return false;
  if (argument.value.get_if<amqp::void_value>() != nullptr) return true;
  return routing_value_equal(argument.value, *header);
}

}  // namespace

match_mode parse_match_mode(const amqp::field_table& arguments) {
  const amqp::field_value* value = arguments.find("x-match");
  const std::string* text = value == nullptr ? nullptr : value->get_if<std::string>();
  if (text == nullptr) return match_mode::all;
  if (*text == "any") return match_mode::any;
  if (*text == "all-with-x") return match_mode::all_with_x;
  if (*text == "any-with-x") return match_mode::any_with_x;
  return match_mode::all;
}

header_view::header_view(const amqp::field_table* headers, std::vector<const amqp::field_entry*>& index_buffer)
    : headers_(headers) {
  if (headers == nullptr || headers->entries.size() <= linear_limit) return;
  index_buffer.clear();
  for (const amqp::field_entry& e : headers->entries) index_buffer.push_back(&e);
  // Equal names: later entries first, so lower_bound lands on the one that wins.
  std::sort(index_buffer.begin(), index_buffer.end(), [](const amqp::field_entry* a, const amqp::field_entry* b) {
    if (a->name != b->name) return a->name < b->name;
    return a > b;
  });
  sorted_ = &index_buffer;
}

const amqp::field_value* header_view::find(std::string_view name) const {
  if (headers_ == nullptr) return nullptr;
  if (sorted_ == nullptr) {
    const auto& entries = headers_->entries;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
      if (it->name == name) return &it->value;
    return nullptr;
  }
  const auto it = std::lower_bound(sorted_->begin(), sorted_->end(), name,
                                   [](const amqp::field_entry* e, std::string_view n) { return e->name < n; });
  return it != sorted_->end() && (*it)->name == name ? &(*it)->value : nullptr;
}

bool routing_value_equal(const amqp::field_value& bound, const amqp::field_value& header) {
  if (const auto b = integer_value(bound, false)) {
    const auto h = integer_value(header, true);
    return h && *b == *h;
  }
  if (const auto b = float_value(bound)) {
    const auto h = float_value(header);
    return h && *b == *h;
  }
  if (const std::string* b = bound.as_string()) {
    const std::string* h = header.as_string();
    return h != nullptr && *b == *h;
  }
  if (bound.get_if<bool>() != nullptr) return same_alternative_equal<bool>(bound, header);
  if (bound.get_if<amqp::decimal_value>() != nullptr) return same_alternative_equal<amqp::decimal_value>(bound, header);
  if (is_list(bound)) return lists_equal(bound, header);
  return false;  // void: only ever matched on presence, by the caller
}

bool headers_match(const amqp::field_table& arguments, match_mode mode, const header_view& headers) {
  const bool all = mode == match_mode::all || mode == match_mode::all_with_x;
  for (const amqp::field_entry& argument : arguments.entries) {
    if (is_skipped(argument.name, mode)) continue;
    const bool hit = argument_matches(argument, headers);
    if (all && !hit) return false;
    if (!all && hit) return true;
  }
  // all: nothing failed (even with nothing to check); any: nothing matched.
  return all;
}

}  // namespace roost::routing
