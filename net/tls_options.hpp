// What the operator says about TLS on the command line: the certificate and
// key a TLS listener presents, the CA its clients' certificates must chain
// to, and whether a client certificate is asked for. Plain data with its
// parser, so option handling is tested without OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace roost::net {

// RabbitMQ's ssl_options.verify and fail_if_no_peer_cert, in one setting.
enum class peer_verification {
  none,     // no client certificate is asked for
  peer,     // a certificate the client sends must verify; a client without one is let in
  require,  // clients without a valid certificate are refused (fail_if_no_peer_cert)
};

struct tls_options {
  std::string certificate_file;  // PEM: the server's certificate, then any intermediates
  std::string key_file;          // PEM private key, unencrypted
  std::string ca_file;           // PEM: the CAs client certificates are verified against
  peer_verification verify = peer_verification::none;

  bool enabled() const { return !certificate_file.empty(); }
};

// "none", "peer" or "require"; false for anything else.
bool parse_peer_verification(std::string_view text, peer_verification& out);

}  // namespace roost::net
