// Basic-class content properties (the 14 optional fields of a content header).
//
// Two ways in: decode_properties() builds the full struct (tests, dead-letter
// header rewriting, the admin API), while scan_properties() walks the same
// field list without copying, picking out only what routing and queueing
// need; that is the one used on the publish path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "amqp/field_table.hpp"
#include "amqp/wire.hpp"

namespace roost::amqp {

struct basic_properties {
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<field_table> headers;
  std::optional<std::uint8_t> delivery_mode;
  std::optional<std::uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<std::uint64_t> timestamp;
  std::optional<std::string> type;
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;
  std::optional<std::string> cluster_id;

  // Wire order; the first field owns flag bit 15, the next bit 14, and so on.
  static constexpr auto fields() {
    using p = basic_properties;
    return std::tuple{&p::content_type,   &p::content_encoding, &p::headers,  &p::delivery_mode, &p::priority,
                      &p::correlation_id, &p::reply_to,         &p::expiration, &p::message_id,  &p::timestamp,
                      &p::type,           &p::user_id,          &p::app_id,   &p::cluster_id};
  }
  bool operator==(const basic_properties&) const = default;
};

// raw: the property flags followed by the property list.
basic_properties decode_properties(std::string_view raw);
void encode_properties(wire_writer& out, const basic_properties& props);

// The same properties with one header set (added, or replaced); throws
// decode_error when raw does not decode.
std::string with_header(std::string_view raw, std::string_view key, field_value value);

// What the broker needs from a message's properties, as views into the raw bytes.
struct property_summary {
  std::uint8_t delivery_mode = 0;
  std::optional<std::uint8_t> priority;
  std::optional<std::string_view> expiration;
  std::optional<std::string_view> user_id;
  std::optional<std::string_view> reply_to;
  // The headers table's encoded bytes (with the 4-byte length), decoded only on demand.
  std::optional<std::string_view> headers;
};

// Validates the whole property list (throws decode_error) and summarises it.
property_summary scan_properties(std::string_view raw);

}  // namespace roost::amqp
