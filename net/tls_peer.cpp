// Reading the client's name out of its certificate: see tls_peer.hpp.
#include "net/tls_peer.hpp"

#include <openssl/x509.h>

namespace roost::net {

std::string verified_client_name(SSL* ssl) {
  X509* certificate = SSL_get0_peer_certificate(ssl);
  // Without verification (--tls-verify none) no certificate is asked for;
  // with it, one that fails ends the handshake. The check is belt and braces.
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509_NAME* subject = X509_get_subject_name(certificate);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  if (length < 0) return {};
  std::string name(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return name;
}

}  // namespace roost::net
