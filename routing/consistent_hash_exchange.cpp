// Consistent-hash exchange: weights from binding keys, ring membership from
// bindings, one destination per message.
#include "routing/consistent_hash_exchange.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"

namespace roost::routing {

namespace {

// RabbitMQ accepts any positive weight; past this one, a binding's share of
// the ring stops growing, so that a weight of a million costs no more ring
// points (2.5 MB) than one of a thousand. Shares stay proportional below it.
constexpr std::int64_t max_weight = 1000;

// What a missing header or property hashes as.
constexpr std::string_view missing_value{};

std::optional<std::int64_t> parse_weight(std::string_view key) {
  // Erlang's list_to_integer, which the plugin uses: optional sign, digits.
  std::string_view digits = key;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) value = std::numeric_limits<std::int64_t>::max();  // huge, yet an integer
  else if (ec != std::errc{}) return std::nullopt;
  return negative ? -value : value;
}

// An Erlang binary as ~p prints it, as in the plugin's refusal text.
std::string erlang_binary(std::string_view bytes) {
  if (bytes.empty()) return "<<>>";
  std::string out = "<<\"";
  for (char c : bytes) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\">>";
}

const std::string* string_argument(const amqp::field_table& arguments, std::string_view name) {
  const amqp::field_value* v = arguments.find(name);
  return v != nullptr ? v->as_string() : nullptr;
}

bool known_property(std::string_view name) {
  return name == "message_id" || name == "correlation_id" || name == "timestamp";
}

std::string destination_fallback_name(destination dest) {
  return (dest.kind == destination_kind::queue ? "queue:" : "exchange:") + std::to_string(dest.id);
}

}  // namespace

consistent_hash_exchange::consistent_hash_exchange(const amqp::field_table& arguments) {
  if (const std::string* header = string_argument(arguments, "hash-header")) {
    source_ = hash_source::header;
    source_name_ = *header;
  } else if (const std::string* property = string_argument(arguments, "hash-property")) {
    source_ = hash_source::property;
    source_name_ = *property;
  }
}

std::string consistent_hash_exchange::validate_arguments(const amqp::field_table& arguments) {
  const std::string* header = string_argument(arguments, "hash-header");
  const std::string* property = string_argument(arguments, "hash-property");
  if (header != nullptr && property != nullptr) return "hash-header and hash-property are mutually exclusive";
  if (property != nullptr && !known_property(*property)) return "Unsupported property: " + *property;
  return {};
}

std::string consistent_hash_exchange::validate_binding_key(std::string_view routing_key) const {
  std::optional<std::int64_t> weight = parse_weight(routing_key);
  if (!weight) return "The binding key must be an integer: " + erlang_binary(routing_key);
  if (*weight < 1) return "The binding key must be greater than 0";
  return {};
}

void consistent_hash_exchange::name_destination(destination dest, std::string_view name) {
  names_.insert_or_assign(dest, std::string(name));
}

bool consistent_hash_exchange::bind(destination dest, std::string_view routing_key,
                                    const amqp::field_table& arguments) {
  amqp::field_table canonical = canonical_arguments(arguments);
  for (const binding_entry& b : bindings_)
    if (b.dest == dest && b.key == routing_key && b.arguments == canonical) return false;
  // The vhost validated the key; a direct caller with a bad one gets weight 0 (no points).
  std::int64_t weight = std::clamp<std::int64_t>(parse_weight(routing_key).value_or(0), 0, max_weight);
  bindings_.push_back(binding_entry{dest, std::string(routing_key), std::move(canonical),
                                    static_cast<std::uint32_t>(weight)});
  rebuild();
  return true;
}

bool consistent_hash_exchange::unbind(destination dest, std::string_view routing_key,
                                      const amqp::field_table& arguments) {
  amqp::field_table canonical = canonical_arguments(arguments);
  auto it = std::find_if(bindings_.begin(), bindings_.end(), [&](const binding_entry& b) {
    return b.dest == dest && b.key == routing_key && b.arguments == canonical;
  });
  if (it == bindings_.end()) return false;
  bindings_.erase(it);
  if (std::none_of(bindings_.begin(), bindings_.end(), [&](const binding_entry& b) { return b.dest == dest; }))
    names_.erase(dest);
  rebuild();
  return true;
}

void consistent_hash_exchange::rebuild() {
  std::vector<hash_ring::member> members;
  members.reserve(bindings_.size());
  for (const binding_entry& b : bindings_) {
    auto named = names_.find(b.dest);
    std::string name = named != names_.end() ? named->second : destination_fallback_name(b.dest);
    // Two bindings of one destination (different keys or arguments) each add their own points.
    std::uint64_t seed = stable_hash(name, stable_hash(b.key, stable_hash(amqp::encode_table(b.arguments))));
    members.push_back(hash_ring::member{b.dest, seed, b.weight});
  }
  ring_.assign(members);
}

std::uint64_t consistent_hash_exchange::key_hash(const routed_message& message) const {
  switch (source_) {
    case hash_source::routing_key:
      return stable_hash(message.routing_key);
    case hash_source::header: {
      const amqp::field_value* v = message.headers != nullptr ? message.headers->find(source_name_) : nullptr;
      if (v == nullptr) return stable_hash(missing_value);
      if (const std::string* text = v->as_string()) return stable_hash(*text);
      std::int64_t number = 0;
      if (v->as_integer(number)) return stable_hash(std::to_string(number));
      // Anything else hashes by its wire encoding.
      amqp::field_table one;
      one.set("", *v);
      return stable_hash(amqp::encode_table(one));
    }
    case hash_source::property: {
      if (message.properties.empty()) return stable_hash(missing_value);
      amqp::basic_properties props = amqp::decode_properties(message.properties);
      if (source_name_ == "message_id") return stable_hash(props.message_id.value_or(std::string(missing_value)));
      if (source_name_ == "correlation_id")
        return stable_hash(props.correlation_id.value_or(std::string(missing_value)));
      return stable_hash(props.timestamp ? std::to_string(*props.timestamp) : std::string(missing_value));
    }
  }
  return 0;
}

void consistent_hash_exchange::route(const routed_message& message, std::vector<destination>& out) const {
  if (auto owner = ring_.owner(key_hash(message))) out.push_back(*owner);
}

}  // namespace roost::routing
