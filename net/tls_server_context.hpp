// The OpenSSL context a TLS listener hands each accepted connection (and,
// built the same way, the one a cluster follower connects to its leader
// with): the
// certificate chain and key, TLS 1.2 and 1.3 only with a modern cipher
// list, and the client-certificate policy. Shared by the AMQPS listener and
// the admin HTTPS listener, which present the same certificate.
//
// tls_server_credentials holds the current context and replaces it on
// reload (SIGHUP). A connection's OpenSSL object counts a reference to the
// context it was accepted with (SSL_new), so replacing it changes what new
// connections get and leaves open ones alone. A reload that fails keeps
// the old context. Lives on the thread of the listeners that use it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "net/tls_options.hpp"

namespace roost::net {

// A certificate, key or CA file that cannot be read or used; what() is one
// line naming the file and why.
class tls_setup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds a server context from the files; throws tls_setup_error.
std::unique_ptr<boost::asio::ssl::context> make_server_context(const tls_options& options);

// A client context for Roost's own outgoing TLS (a cluster follower to its
// leader's replication port): the same protocols and ciphers, the server's
// certificate verified against the CAs in ca_file (the caller checks the
// name). Throws tls_setup_error.
std::unique_ptr<boost::asio::ssl::context> make_client_context(const std::string& ca_file);

class tls_server_credentials {
 public:
  // Loads the files now; throws tls_setup_error.
  explicit tls_server_credentials(tls_options options);

  // What a connection accepted now should use.
  boost::asio::ssl::context& current() { return *current_; }
  // Reads the files again. On failure the current context stays and the
  // reason is returned.
  std::optional<std::string> reload();

  const tls_options& options() const { return options_; }

 private:
  tls_options options_;
  std::unique_ptr<boost::asio::ssl::context> current_;
};

}  // namespace roost::net
