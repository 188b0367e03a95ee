// Content header properties: the property flags and list a publisher sends
// after the content header's class, weight and body size.
//
// The broker reads them two ways: scan_properties() on the publish path
// (views, no copies) and decode_properties() where it needs the whole
// struct (dead-lettering, Direct Reply-to, the admin API). The two must
// agree on what is malformed and on every field the scan reports, and a
// decoded struct must round-trip to stable bytes. with_header (a stream's
// x-stream-offset, x-delivery-count) splices a header into the bytes
// without decoding when it can: that must read back as setting it in the
// decoded struct would.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "amqp/properties.hpp"
#include "fuzz/check.hpp"

namespace {

using namespace roost::amqp;
using roost::fuzz::require;

template <class T>
std::optional<T> decode_as(std::string_view raw, T (*decode)(std::string_view)) {
  try {
    return decode(raw);
  } catch (const decode_error&) {
    return std::nullopt;
  }
}

bool same(const std::optional<std::string_view>& scanned, const std::optional<std::string>& decoded) {
  return scanned.has_value() == decoded.has_value() && (!scanned || *scanned == *decoded);
}

void compare(const property_summary& s, const basic_properties& p) {
  require(s.delivery_mode == p.delivery_mode.value_or(0), "scan and decode agree on delivery_mode");
  require(s.priority == p.priority, "scan and decode agree on priority");
  require(same(s.expiration, p.expiration), "scan and decode agree on expiration");
  require(same(s.user_id, p.user_id), "scan and decode agree on user_id");
  require(same(s.reply_to, p.reply_to), "scan and decode agree on reply_to");
  require(s.headers.has_value() == p.headers.has_value(), "scan and decode agree on headers");
  if (s.headers) require(encode_table(decode_table(*s.headers)) == encode_table(*p.headers), "same headers");
}

std::string encoded(const basic_properties& p) {
  std::string out;
  wire_writer w(out);
  encode_properties(w, p);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto scanned = decode_as(raw, scan_properties);
  auto decoded = decode_as(raw, decode_properties);
  require(scanned.has_value() == decoded.has_value(), "scan and decode agree on what is malformed");
  if (!decoded) return 0;
  compare(*scanned, *decoded);
  std::string once = encoded(*decoded);
  require(encoded(decode_properties(once)) == once, "encode(decode(encode(p))) == encode(p)");
  basic_properties with_offset = *decoded;
  if (!with_offset.headers) with_offset.headers.emplace();
  with_offset.headers->set("x-stream-offset", std::int64_t{42});
  // Compared as bytes: a NaN float in the headers is not equal to itself.
  require(encoded(decode_properties(with_header(raw, "x-stream-offset", std::int64_t{42}))) == encoded(with_offset),
          "with_header reads back as the header set in the decoded properties");
  return 0;
}
