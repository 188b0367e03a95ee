// The outbound buffer: frames as bytes, large bodies by reference, and the
// stream the socket sees is exactly what copying everything would produce.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "amqp/frame.hpp"
#include "broker/transport/outbound_buffer.hpp"

using namespace roost;

namespace {

message_ref make_message(std::size_t body_size) {
  auto m = std::make_shared<message>();
  m->body.resize(body_size);
  for (std::size_t i = 0; i < body_size; ++i) m->body[i] = static_cast<char>('a' + i % 26);
  return m;
}

// What append_body_frames must produce, built the plain way.
std::string copied_frames(std::uint16_t channel, const std::string& body, std::uint32_t frame_max) {
  std::string out;
  amqp::append_body_frames(out, channel, body, frame_max);
  return out;
}

std::size_t piece_count(const outbound_buffer& b) {
  std::size_t n = 0;
  b.for_each_piece([&](std::string_view) { ++n; });
  return n;
}

}  // namespace

TEST_CASE("small bodies are copied into the frame bytes") {
  outbound_buffer b;
  auto msg = make_message(100);
  b.append_body_frames(3, msg, 131072);
  CHECK(b.flatten() == copied_frames(3, msg->body, 131072));
  CHECK(piece_count(b) == 1);
  CHECK(msg.use_count() == 1);  // nothing held
}

TEST_CASE("large bodies are referenced and framed exactly as a copy would be") {
  for (std::uint32_t frame_max : {4096u, 131072u}) {
    outbound_buffer b;
    b.bytes() = "head";
    auto msg = make_message(70000);
    b.append_body_frames(7, msg, frame_max);
    b.bytes() += "tail";
    CHECK(b.flatten() == "head" + copied_frames(7, msg->body, frame_max) + "tail");
    CHECK(b.size() == b.flatten().size());
    CHECK(piece_count(b) > 2);
  }
}

TEST_CASE("a referenced message outlives its other owners until the buffer is cleared") {
  outbound_buffer b;
  auto msg = make_message(65536);
  std::weak_ptr<const message> watch = msg;
  b.append_body_frames(1, msg, 131072);
  msg.reset();
  CHECK_FALSE(watch.expired());
  std::string expected = b.flatten();

  outbound_buffer writing;
  writing.swap(b);  // what the writer does: the connection's buffer starts empty again
  CHECK(b.empty());
  CHECK(writing.flatten() == expected);
  writing.clear();
  CHECK(watch.expired());
  CHECK(writing.empty());
}

TEST_CASE("release_memory empties the buffer") {
  outbound_buffer b;
  b.bytes().assign(100000, 'x');
  b.append_body_frames(1, make_message(20000), 131072);
  b.release_memory();
  CHECK(b.empty());
  CHECK(b.capacity() < 100000);
}
