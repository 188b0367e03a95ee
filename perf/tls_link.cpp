// OpenSSL on a non-blocking socket for roost-perf: see tls_link.hpp.
#include "perf/tls_link.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <string>

#include "perf/client_connection.hpp"

namespace roost::perf {

namespace {

// Big enough for several 16 KiB records per recv(), as plain reads take 512 KiB.
constexpr std::size_t read_buffer = 256 * 1024;

// One client context for every connection of the process (OpenSSL counts
// its users; it is never freed).
SSL_CTX* client_context() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_default_read_buffer_len(c, read_buffer);
    // write() hands over a batch; OpenSSL may take it a record at a time.
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return c;
  }();
  return ctx;
}

[[noreturn]] void fail(const char* what, SSL* ssl, int rc) {
  int error = SSL_get_error(ssl, rc);
  if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
    throw broker_error(std::string("connection closed by the broker during TLS ") + what);
  char text[256];
  ERR_error_string_n(ERR_get_error(), text, sizeof text);
  throw broker_error(std::string("TLS ") + what + " failed: " + text);
}

bool would_block(SSL* ssl, int rc) {
  int error = SSL_get_error(ssl, rc);
  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

}  // namespace

tls_link::tls_link(int fd, std::chrono::nanoseconds timeout) : ssl_(SSL_new(client_context())) {
  SSL_set_fd(ssl_, fd);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int rc = SSL_connect(ssl_);
    if (rc == 1) return;
    int error = SSL_get_error(ssl_, rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      try {
        fail("handshake", ssl_, rc);
      } catch (...) {
        SSL_free(ssl_);
        throw;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, static_cast<short>(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      SSL_free(ssl_);
      throw broker_error("TLS handshake timed out");
    }
  }
}

tls_link::~tls_link() { SSL_free(ssl_); }

std::size_t tls_link::write(const char* data, std::size_t size) {
  std::size_t written = 0;
  int rc = SSL_write_ex(ssl_, data, size, &written);
  if (rc == 1) return written;
  if (would_block(ssl_, rc)) return 0;
  fail("write", ssl_, rc);
}

std::size_t tls_link::read(std::uint8_t* data, std::size_t size) {
  std::size_t got = 0;
  int rc = SSL_read_ex(ssl_, data, size, &got);
  if (rc == 1) return got;
  if (would_block(ssl_, rc)) return 0;
  fail("read", ssl_, rc);
}

bool tls_link::has_buffered_input() const { return SSL_has_pending(ssl_) == 1; }

}  // namespace roost::perf
