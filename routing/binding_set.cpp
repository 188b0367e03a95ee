// Out-of-line helpers for binding_set.hpp: destination hashing and the
// canonical (RabbitMQ-sorted) form of binding arguments.
#include "routing/binding_set.hpp"

namespace roost::routing {

std::size_t destination_hash::operator()(destination dest) const noexcept {
  const std::uint64_t packed = (static_cast<std::uint64_t>(dest.kind) << 32) | dest.id;
  return std::hash<std::uint64_t>{}(packed);
}

amqp::field_table canonical_arguments(const amqp::field_table& arguments) {
  amqp::field_table sorted = arguments;
  // Stable, like lists:keysort: entries with equal names keep their wire
  // order, which decides which duplicate a first-match lookup sees.
  std::stable_sort(sorted.entries.begin(), sorted.entries.end(),
                   [](const amqp::field_entry& a, const amqp::field_entry& b) { return a.name < b.name; });
  return sorted;
}

}  // namespace roost::routing
