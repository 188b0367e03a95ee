// Publisher confirms go out in publish order, runs of acks coalesced.
#include <doctest/doctest.h>

#include "amqp/frame.hpp"
#include "amqp/method_codec.hpp"
#include "broker/protocol/confirm_tracker.hpp"

using namespace roost;

namespace {

struct confirm {
  bool ack;
  std::uint64_t tag;
  bool multiple;
  bool operator==(const confirm&) const = default;
};

// Decodes the basic.ack / basic.nack frames flush() wrote.
std::vector<confirm> frames(const std::string& out) {
  std::vector<confirm> result;
  std::size_t at = 0;
  while (at < out.size()) {
    auto h = amqp::parse_frame_header(reinterpret_cast<const std::uint8_t*>(out.data() + at));
    amqp::wire_reader in(out.data() + at + amqp::frame_header_size, h.size);
    in.u16();
    std::uint16_t method = in.u16();
    if (method == amqp::basic_ack::id.method_id) {
      auto m = amqp::decode_arguments<amqp::basic_ack>(in);
      result.push_back({true, m.delivery_tag, m.multiple});
    } else {
      auto m = amqp::decode_arguments<amqp::basic_nack>(in);
      result.push_back({false, m.delivery_tag, m.multiple});
    }
    at += h.size + amqp::frame_overhead;
  }
  return result;
}

}  // namespace

TEST_CASE("sequence numbers start at 1") {
  confirm_tracker t;
  CHECK(t.next() == 1);
  CHECK(t.next() == 2);
  CHECK(t.outstanding() == 2);
}

TEST_CASE("a run of acks becomes one ack with multiple") {
  confirm_tracker t;
  for (int i = 0; i < 5; ++i) t.complete(t.next(), confirm_tracker::outcome::ack);
  std::string out;
  t.flush(out, 1);
  CHECK(frames(out) == std::vector<confirm>{{true, 5, true}});
  CHECK(t.outstanding() == 0);
}

TEST_CASE("a single ack is not multiple") {
  confirm_tracker t;
  t.complete(t.next(), confirm_tracker::outcome::ack);
  std::string out;
  t.flush(out, 1);
  CHECK(frames(out) == std::vector<confirm>{{true, 1, false}});
}

TEST_CASE("a later completion waits for an earlier pending publish") {
  confirm_tracker t;
  auto first = t.next();
  auto second = t.next();
  t.complete(second, confirm_tracker::outcome::ack);
  std::string out;
  t.flush(out, 1);
  CHECK(out.empty());
  t.complete(first, confirm_tracker::outcome::ack);
  t.flush(out, 1);
  CHECK(frames(out) == std::vector<confirm>{{true, 2, true}});
}

TEST_CASE("nacks split runs of acks and keep order") {
  confirm_tracker t;
  for (int i = 0; i < 5; ++i) {
    auto seq = t.next();
    t.complete(seq, seq == 3 ? confirm_tracker::outcome::nack : confirm_tracker::outcome::ack);
  }
  std::string out;
  t.flush(out, 7);
  CHECK(frames(out) == std::vector<confirm>{{true, 2, true}, {false, 3, false}, {true, 5, true}});
}
