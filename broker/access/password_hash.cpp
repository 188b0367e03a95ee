// Salted password digests with OpenSSL's EVP interface: see password_hash.hpp.
#include "broker/access/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "broker/common/base64.hpp"

namespace roost {

namespace {

constexpr std::size_t salt_size = 4;  // RabbitMQ's 32-bit salt

const EVP_MD* digest_of(hashing_algorithm a) {
  switch (a) {
    case hashing_algorithm::sha256: return EVP_sha256();
    case hashing_algorithm::sha512: return EVP_sha512();
    case hashing_algorithm::md5: return EVP_md5();
  }
  return EVP_sha256();
}

std::size_t digest_size(hashing_algorithm a) { return static_cast<std::size_t>(EVP_MD_size(digest_of(a))); }

std::string digest(hashing_algorithm a, std::string_view salt, std::string_view password) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, digest_of(a), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
            EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &size) == 1;
  EVP_MD_CTX_free(ctx);
  // Only an out-of-memory libcrypto fails here; no login may succeed on it.
  if (!ok) throw std::runtime_error("password digest failed");
  out.resize(size);
  return out;
}

}  // namespace

std::optional<hashing_algorithm> parse_hashing_algorithm(std::string_view name) {
  if (name == "rabbit_password_hashing_sha256") return hashing_algorithm::sha256;
  if (name == "rabbit_password_hashing_sha512") return hashing_algorithm::sha512;
  if (name == "rabbit_password_hashing_md5") return hashing_algorithm::md5;
  return std::nullopt;
}

std::string_view hashing_algorithm_name(hashing_algorithm a) {
  switch (a) {
    case hashing_algorithm::sha256: return "rabbit_password_hashing_sha256";
    case hashing_algorithm::sha512: return "rabbit_password_hashing_sha512";
    case hashing_algorithm::md5: return "rabbit_password_hashing_md5";
  }
  return "rabbit_password_hashing_sha256";
}

std::string password_hash::base64() const { return base64_encode(salted_digest); }

std::optional<password_hash> password_hash::from_base64(hashing_algorithm a, std::string_view text) {
  if (text.empty()) return password_hash{a, {}};
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != salt_size + digest_size(a)) return std::nullopt;
  return password_hash{a, std::move(*bytes)};
}

password_hash hash_password(std::string_view password, hashing_algorithm a) {
  unsigned char salt[salt_size];
  if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("no random bytes for a password salt");
  return hash_password_with_salt(password, std::string_view(reinterpret_cast<const char*>(salt), sizeof salt), a);
}

password_hash hash_password_with_salt(std::string_view password, std::string_view salt, hashing_algorithm a) {
  return password_hash{a, std::string(salt) + digest(a, salt, password)};
}

bool verify_password(const password_hash& hash, std::string_view password) {
  if (hash.salted_digest.size() != salt_size + digest_size(hash.algorithm)) return false;
  std::string_view salt = std::string_view(hash.salted_digest).substr(0, salt_size);
  std::string computed = digest(hash.algorithm, salt, password);
  return CRYPTO_memcmp(computed.data(), hash.salted_digest.data() + salt_size, computed.size()) == 0;
}

}  // namespace roost
