#include "replication/link_messages.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace roost::replication {

namespace {

constexpr std::size_t proof_size = 32;  // SHA-256
constexpr std::string_view hello_context = "roost replication hello";
constexpr std::string_view forward_context = "roost replication forward";

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::string header_for(message_type type, std::size_t payload_size) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(payload_size));
  out.push_back(static_cast<char>(type));
  return out;
}

// A frame around a payload that `write` appends.
template <class Writer>
std::string frame(message_type type, Writer write) {
  std::string payload;
  write(payload);
  return header_for(type, payload.size()) + payload;
}

class reader {
 public:
  explicit reader(std::string_view bytes) : rest_(bytes) {}

  std::string_view take(std::size_t n) {
    if (n > rest_.size()) throw bad_message("replication message ends early");
    std::string_view taken = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return taken;
  }
  std::uint64_t uint(std::size_t bytes) {
    std::uint64_t v = 0;
    for (unsigned char c : take(bytes)) v = (v << 8) | c;
    return v;
  }
  std::string string() { return std::string(take(static_cast<std::size_t>(uint(4)))); }
  void end() const {
    if (!rest_.empty()) throw bad_message("replication message has bytes past its end");
  }

 private:
  std::string_view rest_;
};

void put_forward_fields(std::string& out, const forward& f) {
  put_string(out, f.node_id);
  put_string(out, f.listener);
  put_string(out, f.client_address);
  out.push_back(static_cast<char>(f.client_port >> 8));
  out.push_back(static_cast<char>(f.client_port & 0xff));
}

// HMAC-SHA256 of `context` and the length-prefixed fields `write` appends,
// so that no two sets of fields read the same.
template <class Writer>
std::string signature(std::string_view secret, std::string_view context, Writer write) {
  std::string signed_text(context);
  write(signed_text);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool same_proof(std::string_view expected, std::string_view given) {
  return given.size() == proof_size && CRYPTO_memcmp(expected.data(), given.data(), proof_size) == 0;
}

}  // namespace

std::string challenge_frame(std::string_view nonce) {
  return frame(message_type::challenge, [&](std::string& out) { put_string(out, nonce); });
}

std::string hello_frame(const hello& h) {
  return frame(message_type::hello, [&](std::string& out) {
    put_string(out, h.node_id);
    put_u64(out, h.position.epoch);
    put_u64(out, h.position.seq);
    put_string(out, h.proof);
  });
}

std::string forward_frame(const forward& f) {
  return frame(message_type::forward, [&](std::string& out) {
    put_forward_fields(out, f);
    put_string(out, f.proof);
  });
}

std::string refuse_frame(std::string_view reason) {
  return frame(message_type::refuse, [&](std::string& out) { put_string(out, reason); });
}

std::string ack_frame(std::uint64_t seq) {
  return frame(message_type::ack, [&](std::string& out) { put_u64(out, seq); });
}

std::string batch_frame_header(std::size_t encoded_size) { return header_for(message_type::batch, encoded_size); }

std::string snapshot_chunk_header(std::size_t chunk_size) {
  return header_for(message_type::snapshot_chunk, chunk_size);
}

std::string snapshot_end_frame(const snapshot_end& end) {
  return frame(message_type::snapshot_end, [&](std::string& out) {
    put_u64(out, end.position.epoch);
    put_u64(out, end.position.seq);
    put_u64(out, end.size);
  });
}

frame_header parse_frame_header(std::string_view bytes, std::uint32_t limit) {
  reader in(bytes.substr(0, frame_header_size));
  auto size = static_cast<std::uint32_t>(in.uint(4));
  auto type = static_cast<std::uint8_t>(in.uint(1));
  if (type < static_cast<std::uint8_t>(message_type::challenge) || type > static_cast<std::uint8_t>(message_type::forward))
    throw bad_message("unknown replication message type " + std::to_string(type));
  if (size > limit)
    throw bad_message("replication message of " + std::to_string(size) + " bytes is over the limit of " +
                      std::to_string(limit));
  return {static_cast<message_type>(type), size};
}

std::string parse_challenge(std::string_view payload) {
  reader in(payload);
  std::string nonce = in.string();
  in.end();
  return nonce;
}

hello parse_hello(std::string_view payload) {
  reader in(payload);
  hello h;
  h.node_id = in.string();
  h.position.epoch = in.uint(8);
  h.position.seq = in.uint(8);
  h.proof = in.string();
  in.end();
  return h;
}

forward parse_forward(std::string_view payload) {
  reader in(payload);
  forward f;
  f.node_id = in.string();
  f.listener = in.string();
  f.client_address = in.string();
  f.client_port = static_cast<std::uint16_t>(in.uint(2));
  f.proof = in.string();
  in.end();
  return f;
}

std::string parse_refuse(std::string_view payload) {
  reader in(payload);
  std::string reason = in.string();
  in.end();
  return reason;
}

std::uint64_t parse_ack(std::string_view payload) {
  reader in(payload);
  std::uint64_t seq = in.uint(8);
  in.end();
  return seq;
}

snapshot_end parse_snapshot_end(std::string_view payload) {
  reader in(payload);
  snapshot_end end;
  end.position.epoch = in.uint(8);
  end.position.seq = in.uint(8);
  end.size = in.uint(8);
  in.end();
  return end;
}

std::string hello_proof(std::string_view secret, std::string_view nonce, std::string_view node_id) {
  return signature(secret, hello_context, [&](std::string& out) {
    put_string(out, nonce);
    put_string(out, node_id);
  });
}

bool proof_matches(std::string_view secret, std::string_view nonce, const hello& h) {
  return same_proof(hello_proof(secret, nonce, h.node_id), h.proof);
}

std::string forward_proof(std::string_view secret, std::string_view nonce, const forward& f) {
  return signature(secret, forward_context, [&](std::string& out) {
    put_string(out, nonce);
    put_forward_fields(out, f);
  });
}

bool proof_matches(std::string_view secret, std::string_view nonce, const forward& f) {
  return same_proof(forward_proof(secret, nonce, f), f.proof);
}

std::string random_nonce() {
  std::string nonce(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  return nonce;
}

std::string random_text_secret() {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : random_nonce()) {
    text.push_back(digits[byte >> 4]);
    text.push_back(digits[byte & 0x0f]);
  }
  return text;
}

}  // namespace roost::replication
