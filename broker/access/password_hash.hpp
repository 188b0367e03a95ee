// Passwords as RabbitMQ stores them: a salted hash, never the password.
//
// RabbitMQ's rabbit_password_hashing_* modules: a random 4-byte salt, the
// digest of salt + password (UTF-8 bytes as given), and base64 of
// salt + digest in definitions files. Roost hashes new passwords with
// SHA-256 (RabbitMQ's default) and accepts SHA-512 and MD5 hashes from
// imported definitions, so users exported from RabbitMQ log in with their
// old passwords. Verification compares in constant time.
//
// Pure functions (OpenSSL's libcrypto for digests and randomness); any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roost {

enum class hashing_algorithm { sha256, sha512, md5 };

// "rabbit_password_hashing_sha256" and the like; nothing for an unknown name.
std::optional<hashing_algorithm> parse_hashing_algorithm(std::string_view name);
std::string_view hashing_algorithm_name(hashing_algorithm a);

struct password_hash {
  hashing_algorithm algorithm = hashing_algorithm::sha256;
  // Salt followed by the digest; empty: no password (logins by password fail).
  std::string salted_digest;

  // The definitions form: base64 of salt + digest ("" for no password).
  std::string base64() const;
  // From the definitions form; nothing when it is not base64 or too short
  // to hold a salt and a digest of this algorithm.
  static std::optional<password_hash> from_base64(hashing_algorithm a, std::string_view text);
};

// A new random salt, then the digest. The algorithm defaults to RabbitMQ's default.
password_hash hash_password(std::string_view password, hashing_algorithm a = hashing_algorithm::sha256);
// The same salt and algorithm (tests, and a known RabbitMQ hash).
password_hash hash_password_with_salt(std::string_view password, std::string_view salt, hashing_algorithm a);
// True when `password` produces this hash. Takes the same time whatever the
// password, once the digest is computed.
bool verify_password(const password_hash& hash, std::string_view password);

}  // namespace roost
