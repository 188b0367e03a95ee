#include "storage/stream_chunk.hpp"

namespace roost::storage {

namespace {

void put_number(std::string& out, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = bytes; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_field(std::string& out, std::string_view bytes) {
  put_number(out, bytes.size(), 4);
  out.append(bytes);
}

}  // namespace

void append_to_chunk(std::string& chunk, const chunk_message& m) {
  put_number(chunk, static_cast<std::uint64_t>(m.appended_at_ms), 8);
  put_field(chunk, m.exchange);
  put_field(chunk, m.routing_key);
  put_field(chunk, m.properties);
  put_field(chunk, m.body);
}

std::string_view chunk_reader::take(std::size_t n) {
  if (n > rest_.size()) throw bad_chunk("a stream chunk ends inside a message");
  std::string_view out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return out;
}

std::uint64_t chunk_reader::number(std::size_t bytes) {
  std::uint64_t value = 0;
  for (char byte : take(bytes)) value = (value << 8) | static_cast<unsigned char>(byte);
  return value;
}

std::string_view chunk_reader::field() { return take(number(4)); }

std::optional<chunk_message> chunk_reader::next() {
  if (rest_.empty()) return std::nullopt;
  chunk_message m;
  m.appended_at_ms = static_cast<std::int64_t>(number(8));
  m.exchange = field();
  m.routing_key = field();
  m.properties = field();
  m.body = field();
  return m;
}

}  // namespace roost::storage
