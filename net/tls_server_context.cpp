// Building the server's OpenSSL context: see tls_server_context.hpp.
#include "net/tls_server_context.hpp"

#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace roost::net {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites with forward secrecy and an AEAD cipher (TLS 1.3's own
// suites are all of that kind; OpenSSL's defaults for them stay).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Session resumption with client certificates needs an id context, or
// OpenSSL refuses resumed handshakes.
constexpr unsigned char session_id_context[] = "roost";

// OpenSSL's own messages name neither the file nor, for a missing file,
// the errno; this check gives the operator both.
void require_readable(const std::string& file, const char* what) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr)
    throw tls_setup_error(std::string("cannot read TLS ") + what + " " + file + ": " + std::strerror(errno));
  std::fclose(f);
}

void check(const boost::system::error_code& ec, const char* what, const std::string& file) {
  if (ec) throw tls_setup_error(std::string("cannot use TLS ") + what + " " + file + ": " + ec.message());
}

// An encrypted key would make OpenSSL prompt on the terminal (and a reload
// hang); answering with no passphrase makes it fail instead.
int no_passphrase(char*, int, int, void*) { return 0; }

void restrict_protocols(ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  // No renegotiation (a client could make the server do handshakes at will),
  // no compression (CRIME), our order of ciphers rather than the client's.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native, tls12_ciphers);
}

void load_identity(ssl::context& ctx, const tls_options& options) {
  const std::string& key = options.key_file.empty() ? options.certificate_file : options.key_file;
  require_readable(options.certificate_file, "certificate");
  require_readable(key, "key");
  SSL_CTX_set_default_passwd_cb(ctx.native_handle(), no_passphrase);
  // The key before the certificate: loaded the other way round, OpenSSL
  // itself refuses a mismatched key with a bare "key values mismatch";
  // this way it drops the key and the check below names both files.
  boost::system::error_code ec;
  ctx.use_private_key_file(key, ssl::context::pem, ec);
  check(ec, "key", key);
  ctx.use_certificate_chain_file(options.certificate_file, ec);
  check(ec, "certificate", options.certificate_file);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw tls_setup_error("TLS key " + key + " does not match the certificate " + options.certificate_file);
}

void load_client_policy(ssl::context& ctx, const tls_options& options) {
  if (!options.ca_file.empty()) {
    require_readable(options.ca_file, "CA file");
    boost::system::error_code ec;
    ctx.load_verify_file(options.ca_file, ec);
    check(ec, "CA file", options.ca_file);
    // Tells clients which CAs we accept, so one with several certificates picks the right one.
    SSL_CTX_set_client_CA_list(ctx.native_handle(), SSL_load_client_CA_file(options.ca_file.c_str()));
  }
  ssl::verify_mode mode = ssl::verify_none;
  if (options.verify == peer_verification::peer) mode = ssl::verify_peer;
  if (options.verify == peer_verification::require) mode = ssl::verify_peer | ssl::verify_fail_if_no_peer_cert;
  ctx.set_verify_mode(mode);
  SSL_CTX_set_session_id_context(ctx.native_handle(), session_id_context, sizeof session_id_context - 1);
}

}  // namespace

std::unique_ptr<ssl::context> make_server_context(const tls_options& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  restrict_protocols(*ctx);
  load_identity(*ctx, options);
  load_client_policy(*ctx, options);
  return ctx;
}

std::unique_ptr<ssl::context> make_client_context(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  restrict_protocols(*ctx);
  require_readable(ca_file, "CA file");
  boost::system::error_code ec;
  ctx->load_verify_file(ca_file, ec);
  check(ec, "CA file", ca_file);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

tls_server_credentials::tls_server_credentials(tls_options options)
    : options_(std::move(options)), current_(make_server_context(options_)) {}

std::optional<std::string> tls_server_credentials::reload() {
  try {
    current_ = make_server_context(options_);
  } catch (const tls_setup_error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace roost::net
