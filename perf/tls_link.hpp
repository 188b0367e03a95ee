// TLS for roost-perf's connections (amqps:// URIs): OpenSSL straight on the
// connection's non-blocking socket, with send/recv-like calls so that
// client_connection keeps its batching (a whole batch per write, a large
// read per receive) through TLS as without it.
//
// The broker's certificate is not verified: roost-perf measures brokers on
// this host; what it needs from TLS is the broker's cost of it. Both
// brokers get the same client (TLS 1.2 or 1.3, whichever they prefer; read
// ahead, so one recv() may bring several records). One per connection, on
// that connection's thread.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace roost::perf {

class tls_link {
 public:
  // Runs the client handshake on `fd` (connected, non-blocking), bounded
  // by `timeout`; throws broker_error when it fails.
  tls_link(int fd, std::chrono::nanoseconds timeout);
  ~tls_link();
  tls_link(const tls_link&) = delete;
  tls_link& operator=(const tls_link&) = delete;

  // As send(2) on a non-blocking socket: the bytes taken, 0 when the socket
  // is full. Throws broker_error on failure.
  std::size_t write(const char* data, std::size_t size);
  // As recv(2): the bytes read, 0 when nothing is there yet; the broker
  // closing is broker_error, as is any failure.
  std::size_t read(std::uint8_t* data, std::size_t size);
  // Decrypted or raw bytes already taken off the socket: poll() would not see them.
  bool has_buffered_input() const;

 private:
  SSL* ssl_;
};

}  // namespace roost::perf
