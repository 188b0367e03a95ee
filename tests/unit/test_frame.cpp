// Frame layer tests (amqp/frame.hpp/.cpp): parse_frame_header on
// big-endian fields with high bits set; method frames laid out as type 1,
// channel, payload size, payload, 0xCE, for every method and when appended
// after bytes already in the buffer; content header layout (class 60,
// weight 0, body size, raw properties passed through); body splitting by
// frame_max, which counts the 8 bytes of frame overhead, at and around the
// boundaries, with an empty body sending no frame; heartbeat and body bytes
// identical to pika's; and the protocol header constant.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "amqp/frame.hpp"
#include "tests/unit/golden_frames.hpp"

using namespace roost::amqp;
using roost::test::bytes_of;
using roost::test::hex;
using roost::test::unhex;
namespace golden = roost::test::golden;

namespace {

struct parsed_frame {
  std::uint8_t type;
  std::uint16_t channel;
  std::string payload;
};

// Splits a buffer of whole frames, checking each frame's size and end octet.
std::vector<parsed_frame> split_frames(std::string_view buf) {
  std::vector<parsed_frame> frames;
  while (!buf.empty()) {
    REQUIRE(buf.size() >= frame_overhead);
    auto h = parse_frame_header(reinterpret_cast<const std::uint8_t*>(buf.data()));
    REQUIRE(buf.size() >= frame_overhead + h.size);
    CHECK(static_cast<std::uint8_t>(buf[frame_header_size + h.size]) == frame_end);
    frames.push_back({h.type, h.channel, std::string(buf.substr(frame_header_size, h.size))});
    buf.remove_prefix(frame_overhead + h.size);
  }
  return frames;
}

std::vector<std::size_t> body_frame_sizes(std::size_t body_size, std::uint32_t frame_max, std::uint16_t channel = 9) {
  std::string body(body_size, '\0');
  for (std::size_t i = 0; i < body_size; ++i) body[i] = static_cast<char>(i * 7 + i / 251);
  std::string out;
  append_body_frames(out, channel, body, frame_max);
  std::vector<std::size_t> sizes;
  std::string joined;
  for (const auto& f : split_frames(out)) {
    CHECK(f.type == static_cast<std::uint8_t>(frame_type::body));
    CHECK(f.channel == channel);
    CHECK(f.payload.size() + frame_overhead <= frame_max);
    sizes.push_back(f.payload.size());
    joined += f.payload;
  }
  CHECK(joined == body);
  return sizes;
}

using sizes = std::vector<std::size_t>;

}  // namespace

TEST_CASE("frame constants") {
  CHECK(frame_end == 0xCE);
  CHECK(frame_header_size == 7);
  CHECK(frame_overhead == 8);
  CHECK(frame_min_size == 4096);
  CHECK(hex(protocol_header) == "41 4d 51 50 00 00 09 01");
  CHECK(static_cast<int>(frame_type::method) == 1);
  CHECK(static_cast<int>(frame_type::header) == 2);
  CHECK(static_cast<int>(frame_type::body) == 3);
  CHECK(static_cast<int>(frame_type::heartbeat) == 8);
}

TEST_CASE("parse_frame_header reads type, channel and size big-endian") {
  const std::string bytes = unhex("03 fe dc ff 00 00 01");
  auto h = parse_frame_header(reinterpret_cast<const std::uint8_t*>(bytes.data()));
  CHECK(h.type == 3);
  CHECK(h.channel == 0xfedc);
  CHECK(h.size == 0xff000001u);
  const std::string small = unhex("01 00 01 00 00 00 0b");
  h = parse_frame_header(reinterpret_cast<const std::uint8_t*>(small.data()));
  CHECK(h.type == 1);
  CHECK(h.channel == 1);
  CHECK(h.size == 11);
}

TEST_CASE("method frame layout") {
  basic_qos qos;
  qos.prefetch_size = 0x01020304;
  qos.prefetch_count = 0x0506;
  qos.global = true;
  std::string out;
  append_method_frame(out, 0xabcd, qos);
  CHECK(hex(out) == hex(unhex("01 abcd 0000000b  003c 000a 01020304 0506 01  ce")));
}

TEST_CASE("method frames for every method carry their payload exactly") {
  std::string out = "already queued bytes";
  const std::size_t prefix = out.size();
  std::vector<std::string> payloads;
  [&]<class... Ms>(method_list<Ms...>) {
    std::uint16_t channel = 0;
    (
        [&] {
          std::string payload;
          wire_writer w(payload);
          encode_method(w, Ms{});
          payloads.push_back(payload);
          append_method_frame(out, channel++, Ms{});
        }(),
        ...);
  }(all_methods{});
  CHECK(out.substr(0, prefix) == "already queued bytes");
  const auto frames = split_frames(std::string_view(out).substr(prefix));
  REQUIRE(frames.size() == payloads.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].type == 1);
    CHECK(frames[i].channel == i);
    CHECK(hex(frames[i].payload) == hex(payloads[i]));
  }
}

TEST_CASE("content header layout") {
  const std::string raw_props = unhex("9000 0a") + "text/plain" + unhex("02");
  std::string out = "x";
  append_content_header(out, 7, 0x0102030405060708, raw_props);
  CHECK(hex(out) == hex("x" + unhex("02 0007 0000001a  003c 0000 0102030405060708") + raw_props + unhex("ce")));

  // No properties at all: just the zero flags word.
  out.clear();
  append_content_header(out, 1, 0, unhex("0000"));
  CHECK(hex(out) == "02 00 01 00 00 00 0e 00 3c 00 00 00 00 00 00 00 00 00 00 00 00 ce");
}

TEST_CASE("body frames split by frame_max, which includes the 8-byte overhead") {
  CHECK(body_frame_sizes(10000, 4096) == sizes{4088, 4088, 1824});
  CHECK(body_frame_sizes(4088, 4096) == sizes{4088});
  CHECK(body_frame_sizes(4089, 4096) == sizes{4088, 1});
  CHECK(body_frame_sizes(8176, 4096) == sizes{4088, 4088});
  CHECK(body_frame_sizes(1, 4096) == sizes{1});
  CHECK(body_frame_sizes(300000, 131072) == sizes{131064, 131064, 37872});
  CHECK(body_frame_sizes(5, 9) == sizes{1, 1, 1, 1, 1});
}

TEST_CASE("an empty body sends no frame") {
  std::string out = "keep";
  append_body_frames(out, 1, "", 4096);
  CHECK(out == "keep");
  CHECK(body_frame_sizes(0, 4096).empty());
}

TEST_CASE("body frame bytes match pika's") {
  std::string out;
  append_body_frames(out, 3, "hello", 131072);
  CHECK(hex(out) == hex(bytes_of(golden::body_frame)));
}

TEST_CASE("heartbeat frame is exactly 08 0000 00000000 ce") {
  std::string out;
  append_heartbeat(out);
  CHECK(hex(out) == "08 00 00 00 00 00 00 ce");
  CHECK(hex(out) == hex(bytes_of(golden::heartbeat_frame)));
  append_heartbeat(out);
  CHECK(out.size() == 16);
  CHECK(out.substr(8) == out.substr(0, 8));
}
