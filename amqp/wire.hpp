// Bounds-checked big-endian reading and writing of AMQP's primitive types.
//
// Pure code: no sockets, no threads. A reader walks a byte span it does not
// own and throws decode_error the moment a field would run past the end, so
// a truncated or lying frame can never read outside its buffer. A writer
// appends to a caller-owned std::string, which lets the connection build many
// frames into one buffer and send them with one write.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "amqp/field_table.hpp"

namespace roost::amqp {

// Malformed input: a field ran past its frame, or a value is not valid AMQP.
// The connection turns it into connection.close 502 SYNTAX_ERROR.
class decode_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class wire_reader {
 public:
  wire_reader(const void* data, std::size_t size)
      : pos_(static_cast<const std::uint8_t*>(data)), end_(pos_ + size) {}
  explicit wire_reader(std::string_view bytes) : wire_reader(bytes.data(), bytes.size()) {}

  std::uint8_t u8() { return *take(1); }
  std::uint16_t u16() {
    auto* p = take(2);
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
  }
  std::uint32_t u32() {
    auto* p = take(4);
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
  }
  std::uint64_t u64() {
    std::uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::string_view shortstr() { return bytes(u8()); }
  std::string_view longstr() { return bytes(u32()); }
  std::string_view bytes(std::size_t n) {
    auto* p = take(n);
    return {reinterpret_cast<const char*>(p), n};
  }
  field_table table();
  field_value value();

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - pos_); }
  bool at_end() const { return pos_ == end_; }

 private:
  const std::uint8_t* take(std::size_t n) {
    if (n > remaining()) throw decode_error("field runs past the end of its frame");
    auto* p = pos_;
    pos_ += n;
    return p;
  }
  field_array array();

  const std::uint8_t* pos_;
  const std::uint8_t* end_;
};

class wire_writer {
 public:
  explicit wire_writer(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) {
    char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_.append(b, 2);
  }
  void u32(std::uint32_t v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    out_.append(b, 4);
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  // Throws std::length_error for strings over 255 bytes: a caller bug, not input.
  void shortstr(std::string_view s);
  void longstr(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }
  void table(const field_table& t);
  void value(const field_value& v);

  // Offset where a u32 placeholder sits, patched later with the length of
  // what followed (tables and frames are length-prefixed).
  std::size_t reserve_u32() {
    std::size_t at = out_.size();
    u32(0);
    return at;
  }
  void patch_u32(std::size_t at, std::uint32_t v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    std::memcpy(out_.data() + at, b, 4);
  }
  std::size_t size() const { return out_.size(); }

 private:
  void array(const field_array& a);

  std::string& out_;
};

// A table's complete encoding (4-byte length + entries), and back; for
// storing tables as opaque bytes. decode_table of "" is an empty table.
std::string encode_table(const field_table& t);
field_table decode_table(std::string_view bytes);

}  // namespace roost::amqp
