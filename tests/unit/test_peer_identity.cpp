// net/tcp_listener's peer_identity without sockets: who a forwarded client
// is, from the address a cluster follower reported.
#include <doctest/doctest.h>

#include "net/tcp_listener.hpp"

using roost::net::peer_at;

TEST_CASE("a forwarded client's address decides whether it is on loopback") {
  CHECK(peer_at("127.0.0.1", 40312).loopback);
  CHECK(peer_at("127.8.9.10", 1).loopback);
  CHECK(peer_at("::1", 1).loopback);
  CHECK(peer_at("::ffff:127.0.0.1", 1).loopback);  // IPv4-mapped, as a dual-stack listener reports it
  CHECK_FALSE(peer_at("192.0.2.7", 1).loopback);
  CHECK_FALSE(peer_at("::ffff:192.0.2.7", 1).loopback);
  CHECK_FALSE(peer_at("localhost", 1).loopback);  // not an address: never trusted as loopback
  CHECK_FALSE(peer_at("", 1).loopback);
}

TEST_CASE("a peer is described as address:port, or as unknown") {
  CHECK(peer_at("192.0.2.7", 40312).describe() == "192.0.2.7:40312");
  CHECK(peer_at("", 0).describe() == "unknown peer");
}
