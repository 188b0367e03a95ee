// Replication without sockets: the link's messages and their proof, where
// a joining follower starts, and the in-sync replica bookkeeping that
// decides how far confirms may go and when the list changes.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cluster/isr_record.hpp"
#include "replication/batch_log.hpp"
#include "replication/history.hpp"
#include "replication/in_sync_replicas.hpp"
#include "replication/link_messages.hpp"

using namespace roost::replication;
using roost::storage::batch_position;
using namespace std::chrono_literals;

namespace {

std::string payload_of(const std::string& frame, message_type expected) {
  frame_header h = parse_frame_header(frame, max_frame);
  CHECK(h.type == expected);
  CHECK(h.payload_size == frame.size() - frame_header_size);
  return frame.substr(frame_header_size);
}

}  // namespace

TEST_CASE("link messages round-trip, and a hello proves the secret") {
  std::string nonce = random_nonce();
  CHECK(nonce.size() == 32);
  CHECK(nonce != random_nonce());
  CHECK(parse_challenge(payload_of(challenge_frame(nonce), message_type::challenge)) == nonce);

  hello h{"n2", {7, 41}, hello_proof("s3cret", nonce, "n2")};
  hello back = parse_hello(payload_of(hello_frame(h), message_type::hello));
  CHECK(back.node_id == "n2");
  CHECK(back.position == batch_position{7, 41});
  CHECK(proof_matches("s3cret", nonce, back));
  CHECK_FALSE(proof_matches("wrong", nonce, back));
  CHECK_FALSE(proof_matches("s3cret", random_nonce(), back));  // a replayed hello
  back.node_id = "n3";                                          // someone else's proof
  CHECK_FALSE(proof_matches("s3cret", nonce, back));
  back.proof.pop_back();
  CHECK_FALSE(proof_matches("s3cret", nonce, back));

  CHECK(parse_ack(payload_of(ack_frame(1234567890123ull), message_type::ack)) == 1234567890123ull);
  CHECK(parse_refuse(payload_of(refuse_frame("why"), message_type::refuse)) == "why");
  CHECK(batch_frame_header(300).size() == frame_header_size);
  snapshot_end end = parse_snapshot_end(payload_of(snapshot_end_frame({{9, 77}, 123456}), message_type::snapshot_end));
  CHECK(end.position == batch_position{9, 77});
  CHECK(end.size == 123456);
  CHECK(parse_frame_header(snapshot_chunk_header(1 << 20), max_frame).type == message_type::snapshot_chunk);
}

TEST_CASE("a forward names the listener and the client, and proves the secret over all of it") {
  std::string nonce = random_nonce();
  forward f{"n2", "amqps", "192.0.2.7", 40312, {}};
  f.proof = forward_proof("s3cret", nonce, f);
  forward back = parse_forward(payload_of(forward_frame(f), message_type::forward));
  CHECK(back.node_id == "n2");
  CHECK(back.listener == "amqps");
  CHECK(back.client_address == "192.0.2.7");
  CHECK(back.client_port == 40312);
  CHECK(proof_matches("s3cret", nonce, back));
  CHECK_FALSE(proof_matches("wrong", nonce, back));
  CHECK_FALSE(proof_matches("s3cret", random_nonce(), back));  // replayed on another connection
  forward spoofed = back;
  spoofed.client_address = "127.0.0.1";  // a client claiming loopback for guest
  CHECK_FALSE(proof_matches("s3cret", nonce, spoofed));
  spoofed = back;
  spoofed.listener = "http";
  CHECK_FALSE(proof_matches("s3cret", nonce, spoofed));
  // A hello's proof does not pass for a forward's, nor the other way round.
  hello h{"n2", {1, 1}, forward_proof("s3cret", nonce, f)};
  CHECK_FALSE(proof_matches("s3cret", nonce, h));
  CHECK_THROWS_AS(parse_forward(std::string("\0\0\0\2n2\0\0\0\4amqp", 14)), bad_message);  // ends early
}

TEST_CASE("malformed link messages are refused, sizes before bytes") {
  CHECK_THROWS_AS(parse_frame_header(std::string("\0\0\0\1\x09", 5), max_frame), bad_message);  // unknown type
  CHECK_THROWS_AS(parse_frame_header(std::string("\0\0\x10\1\x02", 5), max_handshake_frame), bad_message);
  CHECK_THROWS_AS(parse_frame_header(std::string("\0\0", 2), max_frame), bad_message);
  CHECK_THROWS_AS(parse_hello(std::string("\0\0\0\x09n2", 6)), bad_message);  // a name longer than the message
  CHECK_THROWS_AS(parse_ack(std::string(9, '\0')), bad_message);              // bytes past the end
}

TEST_CASE("a joining follower streams from its position when the leader's history has it") {
  leader_history leader{{{3, 1}, {9, 51}}, 80, 40};
  CHECK(plan_join({0, 0}, {{{9, 1}}, 10, 1}) == join_plan::stream);  // an empty store, nothing dropped yet
  CHECK(plan_join({9, 60}, leader) == join_plan::stream);
  CHECK(plan_join({3, 45}, leader) == join_plan::stream);       // epoch 3 ran to batch 50
  CHECK(plan_join({9, 80}, leader) == join_plan::stream);       // up to date
  CHECK(plan_join({3, 20}, leader) == join_plan::needs_snapshot);  // batches 21..39 are gone
  CHECK(plan_join({0, 0}, leader) == join_plan::needs_snapshot);
  CHECK(plan_join({3, 55}, leader) == join_plan::diverged);  // batch 55 is epoch 9's: it applied a deposed leader's
  CHECK(plan_join({9, 81}, leader) == join_plan::diverged);  // ahead of the leader
}

TEST_CASE("in-sync replicas: confirms wait for every member, and nothing before the list is written") {
  auto t0 = in_sync_replicas::clock::now();
  in_sync_replicas isr("n1", 2000ms, 0);
  isr.shipped(1, t0);
  CHECK(isr.confirmable() == 0);  // the list is not in etcd yet
  isr.written({"n1"});
  CHECK(isr.confirmable() == 1);  // alone: what it committed

  isr.connected("n2", 0);
  isr.shipped(2, t0);
  auto added = isr.next_change(t0);
  CHECK_FALSE(added);  // n2 is behind
  isr.acked("n2", 2);
  added = isr.next_change(t0);
  REQUIRE(added);
  CHECK(added->members == std::vector<std::string>{"n1", "n2"});
  CHECK(added->reason == "n2 caught up at batch 2");
  CHECK(isr.confirmable() == 2);
  isr.written(added->members);

  isr.shipped(3, t0);
  CHECK(isr.confirmable() == 2);  // n2 lacks 3
  isr.acked("n2", 3);
  CHECK(isr.confirmable() == 3);
}

TEST_CASE("in-sync replicas: a member behind for longer than the lag timeout is dropped, in etcd first") {
  auto t0 = in_sync_replicas::clock::now();
  in_sync_replicas isr("n1", 2000ms, 0);
  isr.written({"n1", "n2", "n3"});
  isr.connected("n2", 0);
  isr.connected("n3", 0);
  isr.shipped(1, t0);
  isr.acked("n2", 1);
  isr.disconnected("n3");
  CHECK(isr.confirmable() == 0);
  CHECK_FALSE(isr.next_change(t0 + 1999ms));
  auto dropped = isr.next_change(t0 + 2001ms);
  REQUIRE(dropped);
  CHECK(dropped->members == std::vector<std::string>{"n1", "n2"});
  CHECK(dropped->reason == "n3 is 1 batches behind for more than 2000 ms");
  CHECK(isr.confirmable() == 0);  // until the leader has written it
  isr.written(dropped->members);
  CHECK(isr.confirmable() == 1);
  // Back and caught up: listed again, but only while connected.
  isr.connected("n3", 1);
  REQUIRE(isr.next_change(t0 + 3s));
  CHECK(isr.next_change(t0 + 3s)->members == std::vector<std::string>{"n1", "n2", "n3"});
  isr.disconnected("n3");
  CHECK_FALSE(isr.next_change(t0 + 3s));
}

TEST_CASE("the in-sync replica record in etcd") {
  roost::cluster::isr_record isr{42, {"n1", "n3"}};
  auto back = roost::cluster::parse_isr(roost::cluster::encode_isr(isr));
  REQUIRE(back);
  CHECK(back->epoch == 42);
  CHECK(back->lists("n3"));
  CHECK_FALSE(back->lists("n2"));
  CHECK_FALSE(roost::cluster::parse_isr("[]"));
  CHECK_FALSE(roost::cluster::parse_isr("{\"epoch\":1,\"members\":[1]}"));
  CHECK_FALSE(roost::cluster::parse_isr("not json"));
}

TEST_CASE("the batch log keeps the newest batches, contiguous, within its budget") {
  batch_log log(10);
  auto bytes = [](std::size_t n) { return std::make_shared<const std::string>(n, 'x'); };
  log.append(5, bytes(4));
  log.append(6, bytes(4));
  CHECK(log.oldest() == 5);
  CHECK(log.newest() == 6);
  log.append(7, bytes(4));  // 12 bytes: the oldest goes
  CHECK(log.oldest() == 6);
  CHECK(log.find(5) == nullptr);
  REQUIRE(log.find(7) != nullptr);
  CHECK(log.find(8) == nullptr);
  log.append(8, bytes(50));  // over budget alone: still kept, the newest always is
  CHECK(log.oldest() == 8);
  CHECK(log.newest() == 8);
  log.append(3, bytes(1));  // not after 8: the log starts over
  CHECK(log.oldest() == 3);
  CHECK(log.newest() == 3);
}
