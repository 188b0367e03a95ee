// Who the client of a TLS connection is, from its certificate: the name
// SASL EXTERNAL logs in as. Header for the broker's TLS sessions.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace roost::net {

// The subject CN of the client's certificate, when it sent one and it
// verified against our CA; empty otherwise (no certificate, a certificate
// without a CN, or verification not asked for).
std::string verified_client_name(SSL* ssl);

}  // namespace roost::net
