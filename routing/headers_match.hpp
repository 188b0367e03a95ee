// The matching rules of the headers exchange, kept apart from the exchange so
// their RabbitMQ quirks can be read (and tested) in one place.
//
// This follows RabbitMQ 3.13/4.x (rabbit_exchange_type_headers with
// mc_amqpl:routing_headers), which differs from 3.12 and older:
//  - the message headers become a name -> value map, so when a name repeats,
//    the last entry wins;
//  - header values lose their AMQP type and are compared with Erlang's exact
//    =:=: every integer type compares by value (a byte 1 equals a long 1),
//    float and double compare by value, longstr equals a byte array with the
//    same bytes, but an integer never equals a float (1 vs 1.0);
//  - a timestamp header is converted to milliseconds first, while the binding
//    argument stays in seconds, so a timestamp binding argument only matches
//    a header equal to 1000 times its value;
//  - tables and arrays compare with their element types, except that an
//    empty table equals an empty array (both are [] in Erlang);
//  - a void binding argument matches on the header's presence alone.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "amqp/field_table.hpp"

namespace roost::routing {

enum class match_mode : std::uint8_t { all, any, all_with_x, any_with_x };

// The x-match argument as read at route time: a missing or unrecognised value
// means all (validate_match_mode keeps unrecognised ones out in the first place).
match_mode parse_match_mode(const amqp::field_table& arguments);

// The message headers as RabbitMQ's routing map sees them.
class header_view {
 public:
  // headers may be null (no headers). For large tables, sorts pointers into
  // index_buffer so lookups are logarithmic; the view borrows both.
  header_view(const amqp::field_table* headers, std::vector<const amqp::field_entry*>& index_buffer);

  // The last entry with that name, or nullptr.
  const amqp::field_value* find(std::string_view name) const;

 private:
  static constexpr std::size_t linear_limit = 16;

  const amqp::field_table* headers_;
  const std::vector<const amqp::field_entry*>* sorted_ = nullptr;  // null: scan linearly
};

// Whether a (non-void) binding argument value equals a header value.
bool routing_value_equal(const amqp::field_value& bound, const amqp::field_value& header);

// Whether a binding with these (canonical) arguments matches the headers.
bool headers_match(const amqp::field_table& arguments, match_mode mode, const header_view& headers);

}  // namespace roost::routing
