// Field tables and arrays, nested any way the wire allows: the input is one
// encoded table (4-byte length, then entries), optionally followed by a
// second one.
//
// The decoded table must round-trip to stable bytes (see method.cpp for why
// not the input's own), every value must answer the accessors the broker
// uses on headers and arguments, and the headers exchange's matching must
// cope with the first table as a message's headers and the second (or the
// first again) as a binding's arguments, as a hostile publisher and a
// hostile binder could send them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "amqp/wire.hpp"
#include "fuzz/check.hpp"
#include "routing/binding_set.hpp"
#include "routing/headers_match.hpp"

namespace {

using namespace roost::amqp;
namespace routing = roost::routing;

void touch_accessors(const field_value& v) {
  std::int64_t integer = 0;
  double number = 0;
  (void)type_name(v);
  (void)v.as_integer(integer);
  (void)v.as_number(number);
  (void)v.as_string();
  if (const auto* t = v.get_if<field_table>()) {
    for (const field_entry& e : t->entries) touch_accessors(e.value);
  } else if (const auto* a = v.get_if<field_array>()) {
    for (const field_value& item : *a) touch_accessors(item);
  }
}

void check_round_trip(const field_table& decoded) {
  std::string once = encode_table(decoded);
  std::string twice = encode_table(decode_table(once));
  roost::fuzz::require(once == twice, "encode(decode(encode(t))) == encode(t)");
}

void match_headers(const field_table& headers, const field_table& arguments) {
  field_table canonical = routing::canonical_arguments(arguments);
  std::vector<const field_entry*> index;
  routing::header_view view(&headers, index);
  for (auto mode : {routing::match_mode::all, routing::match_mode::any, routing::match_mode::all_with_x,
                    routing::match_mode::any_with_x})
    (void)routing::headers_match(canonical, mode, view);
  (void)routing::parse_match_mode(arguments);
  for (const field_entry& e : headers.entries) (void)routing::routing_value_equal(e.value, e.value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wire_reader in(data, size);
  try {
    field_table headers = in.table();
    field_table arguments = in.at_end() ? headers : in.table();
    check_round_trip(headers);
    for (const field_entry& e : headers.entries) touch_accessors(e.value);
    match_headers(headers, arguments);
  } catch (const decode_error&) {
  }
  return 0;
}
