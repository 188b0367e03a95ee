// The replication link's messages, as bytes. A leader and a follower speak
// them over one TCP connection (docs/architecture.md, "Replication"):
//
//   follower ─► 'R' (replicate_preface), or with --replication-tls the TLS
//               handshake, the rest of the conversation inside TLS
//   leader   ─► challenge{nonce}
//   follower ─► hello{node id, position, proof}      proof = HMAC-SHA256(secret, nonce | node id)
//   leader   ─► refuse{reason} and close, or batches from position.seq + 1 on,
//               or (a follower it cannot serve from batches) the store's file
//               in snapshot chunks, then snapshot_end{position, size}, and close
//   follower ─► ack{seq} after each batch commits in its own store
//
// or, from a follower passing a client's connection on to the leader
// (client_proxy.hpp), always without TLS of its own (the client's bytes
// are as the client sent them, TLS included):
//
//   follower ─► 'F' (forward_preface)
//   leader   ─► challenge{nonce}
//   follower ─► forward{node id, listener, client address and port, proof}
//               proof = HMAC-SHA256(secret, nonce | the other fields)
//   then the client's bytes, both ways, untouched; a wrong proof: closed.
//
// Frame: u32 length of what follows | u8 type | payload (big-endian
// integers, strings as u32 length + bytes). A batch's payload is
// storage/batch_codec.hpp's encoding, as the leader's writer made it.
//
// Parsing trusts nothing: lengths are checked against what arrived, and
// before the hello is proven a frame may not exceed max_handshake_frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store.hpp"

namespace roost::replication {

enum class message_type : std::uint8_t {
  challenge = 1,
  hello = 2,
  refuse = 3,
  batch = 4,
  ack = 5,
  snapshot_chunk = 6,
  snapshot_end = 7,
  forward = 8,
};

// The first byte from whoever connects, which says what follows. A TLS
// handshake starts with 0x16 (a handshake record), unlike either.
constexpr char replicate_preface = 'R';
constexpr char forward_preface = 'F';
constexpr char tls_record_start = 0x16;

constexpr std::size_t frame_header_size = 5;
// Before the peer has proven it knows the cluster secret.
constexpr std::uint32_t max_handshake_frame = 4096;
// A batch holds whole messages (each up to --max-message-size) and the
// writer groups up to a few thousand operations: a bound, not a budget.
constexpr std::uint32_t max_frame = 1u << 30;

struct hello {
  std::string node_id;
  storage::batch_position position;  // the last batch the follower's store applied
  std::string proof;                 // 32 bytes
};

// A client connection a follower passes on to the leader.
struct forward {
  std::string node_id;         // the follower's
  std::string listener;        // where the client came: "amqp", "amqps", "http" or "https"
  std::string client_address;  // the client's end, as the follower saw it
  std::uint16_t client_port = 0;
  std::string proof;  // 32 bytes
};

class bad_message : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whole frames, header included.
std::string challenge_frame(std::string_view nonce);
std::string hello_frame(const hello& h);
std::string forward_frame(const forward& f);
std::string refuse_frame(std::string_view reason);
std::string ack_frame(std::uint64_t seq);
// The batch frame's header; the encoded batch follows it on the wire.
std::string batch_frame_header(std::size_t encoded_size);
// A snapshot chunk's header; that many bytes of the file follow.
std::string snapshot_chunk_header(std::size_t chunk_size);

struct snapshot_end {
  storage::batch_position position;  // the last batch the snapshot holds
  std::uint64_t size = 0;            // the file's bytes, every chunk together
};
std::string snapshot_end_frame(const snapshot_end& end);

struct frame_header {
  message_type type;
  std::uint32_t payload_size;
};
// The first frame_header_size bytes of a frame; throws bad_message for an
// unknown type or a size over `limit`.
frame_header parse_frame_header(std::string_view bytes, std::uint32_t limit);

// Payload parsers (the bytes after the header); throw bad_message.
std::string parse_challenge(std::string_view payload);
hello parse_hello(std::string_view payload);
forward parse_forward(std::string_view payload);
std::string parse_refuse(std::string_view payload);
std::uint64_t parse_ack(std::string_view payload);
snapshot_end parse_snapshot_end(std::string_view payload);

// The proof a follower sends, and its check in constant time.
std::string hello_proof(std::string_view secret, std::string_view nonce, std::string_view node_id);
bool proof_matches(std::string_view secret, std::string_view nonce, const hello& h);
// The same for a forward, its proof covering every other field.
std::string forward_proof(std::string_view secret, std::string_view nonce, const forward& f);
bool proof_matches(std::string_view secret, std::string_view nonce, const forward& f);
// 32 random bytes from OpenSSL's generator.
std::string random_nonce();
// A new cluster secret: 32 random bytes as 64 hex digits (text, for etcd).
std::string random_text_secret();

}  // namespace roost::replication
