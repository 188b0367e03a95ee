// Socket, handshake and buffer management for client_connection.
//
// Blocking work (connect, handshake, close) is bounded by setup_timeout;
// the hot paths (flush, receive) never block, so a worker can interleave
// writing publishes with reading confirms on one thread.
#include "perf/client_connection.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "net/loopback_tcp.hpp"

namespace roost::perf {

namespace {

constexpr std::uint32_t default_frame_max = 131072;  // when the broker offers 0 (no limit)
constexpr std::uint16_t default_channel_max = 2047;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

amqp::field_table client_properties() {
  amqp::field_table caps;
  for (const char* cap : {"publisher_confirms", "basic.nack", "consumer_cancel_notify",
                          "authentication_failure_close", "connection.blocked"}) {
    caps.set(cap, true);
  }
  amqp::field_table props;
  props.set("product", "roost-perf");
  props.set("version", ROOST_VERSION);
  props.set("platform", "C++20");
  props.set("capabilities", std::move(caps));
  return props;
}

// Non-blocking connect bounded by `timeout`; returns the socket or -1 (errno set).
int connect_with_timeout(const addrinfo* ai, std::chrono::milliseconds timeout) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  // Before connect, so the connection starts under it; the same for both
  // brokers (see loopback_tcp.hpp).
  if (net::is_loopback(ai->ai_addr)) net::use_unpaced_congestion_control(fd);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      return fd;
    }
    errno = err != 0 ? err : ETIMEDOUT;
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

}  // namespace

client_connection::client_connection(const amqp_uri& uri, std::size_t read_buffer)
    : in_(std::make_unique_for_overwrite<std::uint8_t[]>(read_buffer)), in_cap_(read_buffer) {
  connect_socket(uri);
  try {
    if (uri.tls) tls_ = std::make_unique<tls_link>(fd_, setup_timeout);
    handshake(uri);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

client_connection::~client_connection() {
  tls_.reset();  // before its socket
  if (fd_ >= 0) ::close(fd_);
}

void client_connection::connect_socket(const amqp_uri& uri) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(uri.port);
  if (int rc = ::getaddrinfo(uri.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw broker_error("cannot resolve " + uri.host + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (const addrinfo* ai = found; ai && fd_ < 0; ai = ai->ai_next) {
    fd_ = connect_with_timeout(ai, setup_timeout);
    if (fd_ < 0) why = std::strerror(errno);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) throw broker_error("cannot connect to " + uri.host + ":" + port + ": " + why);
  // Frames are batched here already; Nagle would only add delay.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void client_connection::handshake(const amqp_uri& uri) {
  out_.append(amqp::protocol_header);
  flush_all();
  auto start = await<amqp::connection_start>();
  if (start.mechanisms.value.find("PLAIN") == std::string::npos) {
    throw broker_error("broker does not offer PLAIN authentication (offers: " + start.mechanisms.value + ")");
  }
  amqp::connection_start_ok ok;
  ok.client_properties = client_properties();
  ok.mechanism = "PLAIN";
  ok.response.value = std::string(1, '\0') + uri.user + std::string(1, '\0') + uri.password;
  ok.locale = "en_US";
  send(ok);
  flush_all();
  auto tune = await<amqp::connection_tune>();
  frame_max_ = tune.frame_max == 0 ? default_frame_max : tune.frame_max;
  std::uint16_t channel_max = tune.channel_max == 0 ? default_channel_max : tune.channel_max;
  // Heartbeat 0: a load generator's threads may be busy for seconds; no timer to miss.
  send(amqp::connection_tune_ok{channel_max, frame_max_, 0});
  call<amqp::connection_open_ok>(amqp::connection_open{uri.vhost, "", false});
  call<amqp::channel_open_ok>(amqp::channel_open{});
}

bool client_connection::flush() {
  while (tls_ && out_sent_ < out_.size()) {
    std::size_t n = tls_->write(out_.data() + out_sent_, out_.size() - out_sent_);
    if (n == 0) return false;
    out_sent_ += n;
  }
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return false;
    } else if (errno != EINTR) {
      throw broker_error(errno_text("send"));
    }
  }
  out_.clear();  // keeps its capacity: the next batch reuses the memory
  out_sent_ = 0;
  return true;
}

void client_connection::flush_all(std::chrono::nanoseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!flush()) {
    auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) throw broker_error("timed out writing to the broker");
    wait(false, true, left);
  }
}

bool client_connection::wait(bool want_read, bool want_write, std::chrono::nanoseconds timeout) {
  if (want_read && tls_ && tls_->has_buffered_input()) return true;
  pollfd p{fd_, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
  auto ns = std::max<std::int64_t>(timeout.count(), 0);
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  if (::ppoll(&p, 1, &ts, nullptr) < 0) {
    if (errno != EINTR) throw broker_error(errno_text("poll"));
    return true;  // interrupted: let the caller look
  }
  return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

void client_connection::make_room() {
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (in_cap_ - in_end_ >= in_cap_ / 4) return;
  std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
  in_end_ -= in_begin_;
  in_begin_ = 0;
  // Grow only when one frame is bigger than the whole buffer.
  std::size_t need = in_cap_;
  if (in_end_ >= amqp::frame_header_size) {
    need = std::max<std::size_t>(need, amqp::parse_frame_header(in_.get()).size + amqp::frame_overhead);
  }
  if (in_end_ == in_cap_) need = std::max(need, in_cap_ * 2);
  if (need > in_cap_) {
    auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(need);
    std::memcpy(bigger.get(), in_.get(), in_end_);
    in_ = std::move(bigger);
    in_cap_ = need;
  }
}

std::size_t client_connection::receive() {
  make_room();
  if (tls_) return receive_tls();
  for (;;) {
    std::size_t room = in_cap_ - in_end_;
    ssize_t n = ::recv(fd_, in_.get() + in_end_, room, 0);
    if (n > 0) {
      in_end_ += static_cast<std::size_t>(n);
      input_drained_ = static_cast<std::size_t>(n) < room;
      return static_cast<std::size_t>(n);
    }
    if (n == 0) throw broker_error("connection closed by the broker (EOF)");
    input_drained_ = true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno != EINTR) throw broker_error(errno_text("recv"));
  }
}

// TLS hands out a record per read: take as many as fit, as one recv() would.
std::size_t client_connection::receive_tls() {
  std::size_t room = in_cap_ - in_end_;
  std::size_t got = 0;
  while (got < room) {
    std::size_t n = tls_->read(in_.get() + in_end_ + got, room - got);
    if (n == 0) break;
    got += n;
  }
  in_end_ += got;
  input_drained_ = got < room;
  return got;
}

void client_connection::fail_closed(const frame_view& f) {
  amqp::wire_reader in = f.arguments();
  bool whole_connection = f.method_key() == amqp::connection_close::id.key();
  auto m = amqp::decode_arguments<amqp::channel_close>(in);  // both closes share one field layout
  if (whole_connection) {
    send(amqp::connection_close_ok{});
  } else {
    send(amqp::channel_close_ok{});
  }
  try {
    flush();
  } catch (const broker_error&) {
    // The broker may already have hung up; the close itself is the error to report.
  }
  std::string cause;
  if (m.class_id != 0) cause = " (in reply to " + std::string(amqp::method_name(m.class_id, m.method_id)) + ")";
  throw broker_error(std::string(whole_connection ? "connection" : "channel") + " closed by the broker: " +
                     std::to_string(m.reply_code) + " " + m.reply_text + cause);
}

bool client_connection::handle_control(const frame_view& f) {
  if (f.type == static_cast<std::uint8_t>(amqp::frame_type::heartbeat)) return true;
  if (!f.is_method()) return false;
  std::uint32_t key = f.method_key();
  if (key == amqp::connection_close::id.key() || key == amqp::channel_close::id.key()) fail_closed(f);
  if (key == amqp::connection_blocked::id.key()) {
    // Flow control, not an error: the publisher simply waits. Said once per
    // connection, since a broker may block and unblock many times a second.
    if (!blocked_reported_) {
      amqp::wire_reader in = f.arguments();
      auto m = amqp::decode_arguments<amqp::connection_blocked>(in);
      std::fprintf(stderr, "roost-perf: the broker paused a connection (connection.blocked: %s)\n", m.reason.c_str());
      blocked_reported_ = true;
    }
    return true;
  }
  return key == amqp::connection_unblocked::id.key();
}

bool client_connection::close(std::chrono::nanoseconds timeout) noexcept {
  try {
    send(amqp::connection_close{200, "roost-perf done", 0, 0});
    flush_all(timeout);
    await<amqp::connection_close_ok>(timeout);
    return true;
  } catch (const std::exception&) {
    return false;  // the socket closes in the destructor either way
  }
}

}  // namespace roost::perf
