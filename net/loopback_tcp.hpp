// Congestion control for TCP connections that never leave the host.
//
// Over loopback there is no network to be congested, but the system's
// congestion control still runs. With BBR (the default on some systems,
// including the benchmark VM) every segment is paced by a kernel timer. Over
// loopback the receiver then sees segments out of order (most likely those
// sent from the timer and those sent from the write call pass through
// different CPUs' backlogs), asks for them again, and the sender retransmits
// what had in fact arrived (nstat: OFO queue, SACK reordering, DSACKs for
// every retransmission; none of it under CUBIC). Measured on the
// 2-vCPU VM with 64 KiB writes: one plain socket pair moves 2.7 GB/s under
// BBR and 8 GB/s under CUBIC; a relay of two pairs 1.6 vs 4.4 GB/s.
//
// Best chosen before the connection is established (on the listening socket,
// whose accepted sockets inherit it, or before connect): a socket that starts
// under BBR keeps the kernel's pacing switched on after the change (the relay
// then makes 3.4-4.0 GB/s), though that is still far better than BBR.
//
// Header-only: the broker and roost-perf both use it on their loopback sockets.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace roost::net {

// Switches a loopback socket to CUBIC, which does not pace. Best effort: a
// kernel without CUBIC, or one that refuses, keeps its default.
inline void use_unpaced_congestion_control(int fd) {
#ifdef TCP_CONGESTION
  static constexpr char cubic[] = "cubic";
  ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cubic, sizeof cubic - 1);
#else
  (void)fd;
#endif
}

// 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address (for a raw socket's
// address; tcp_listener.hpp has the same test for an Asio socket).
inline bool is_loopback(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return (ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
  }
  return false;
}

}  // namespace roost::net
