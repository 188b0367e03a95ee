// Passing clients on to the leader; see client_proxy.hpp.
#include "replication/client_proxy.hpp"

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "net/tcp_listener.hpp"
#include "replication/link_messages.hpp"

namespace roost::replication {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The leader must take the connection and send its challenge this soon: it
// does so as it accepts. A node that was deposed meanwhile never does.
constexpr auto reach_timeout = 3s;
// Per direction: a loopback link moves this in one write.
constexpr std::size_t copy_buffer_size = 16 * 1024;

}  // namespace

struct client_proxy::pipe : std::enable_shared_from_this<pipe> {
  // One way through the pipe: what is read from `from` is written to `to`.
  struct direction {
    tcp::socket* from;
    tcp::socket* to;
    std::array<char, copy_buffer_size> buffer;
  };

  pipe(tcp::socket c, asio::io_context& io)
      : client(std::move(c)), leader(io), deadline(io), ways{{{&client, &leader, {}}, {&leader, &client, {}}}} {}

  tcp::socket client;
  tcp::socket leader;
  asio::steady_timer deadline;
  std::array<char, frame_header_size> header{};
  std::string payload;
  std::string forward_bytes;
  std::array<direction, 2> ways;
  int ways_open = 2;
  bool closed = false;
  std::function<void()> ended;

  // The forward preface; the leader's challenge, answered with the
  // forward; then the copying.
  void greet(forward f, std::string secret) {
    asio::async_write(leader, asio::buffer(&forward_preface, 1), [](boost::system::error_code, std::size_t) {});
    asio::async_read(leader, asio::buffer(header), [self = shared_from_this(), f = std::move(f), secret = std::move(secret)](
                                                        boost::system::error_code ec, std::size_t) mutable {
      if (ec) return self->close();
      frame_header h;
      try {
        h = parse_frame_header({self->header.data(), self->header.size()}, max_handshake_frame);
      } catch (const bad_message&) {
        return self->close();
      }
      if (h.type != message_type::challenge) return self->close();
      self->payload.resize(h.payload_size);
      asio::async_read(self->leader, asio::buffer(self->payload), [self, f = std::move(f), secret = std::move(secret)](
                                                                        boost::system::error_code read_ec, std::size_t) mutable {
        if (read_ec) return self->close();
        try {
          std::string nonce = parse_challenge(self->payload);
          f.proof = forward_proof(secret, nonce, f);
        } catch (const bad_message&) {
          return self->close();
        }
        self->forward_bytes = forward_frame(f);
        asio::async_write(self->leader, asio::buffer(self->forward_bytes), [self](boost::system::error_code write_ec, std::size_t) {
          if (write_ec) return self->close();
          self->deadline.cancel();
          self->copy(self->ways[0]);
          self->copy(self->ways[1]);
        });
      });
    });
  }

  void copy(direction& way) {
    way.from->async_read_some(asio::buffer(way.buffer), [self = shared_from_this(), &way](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::eof) return self->half_close(way);
      if (ec) return self->close();
      asio::async_write(*way.to, asio::buffer(way.buffer, n), [self, &way](boost::system::error_code write_ec, std::size_t) {
        if (write_ec) return self->close();
        self->copy(way);
      });
    });
  }

  // One side is done sending: the other learns it the same way, and the
  // pipe ends once both are.
  void half_close(direction& way) {
    boost::system::error_code ignored;
    way.to->shutdown(tcp::socket::shutdown_send, ignored);
    if (--ways_open == 0) close();
  }

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    client.close(ignored);
    leader.close(ignored);
    deadline.cancel();
    if (ended) ended();
  }
};

client_proxy::client_proxy(asio::io_context& io, client_proxy_options options) : io_(io), options_(std::move(options)) {}

client_proxy::~client_proxy() {
  *alive_ = false;
  boost::system::error_code ignored;
  for (auto& [listener, acceptor] : acceptors_) acceptor->close(ignored);
  for (auto& [id, p] : pipes_) p->close();
}

std::uint16_t client_proxy::listen(const std::string& listener, const std::string& address, std::uint16_t port) {
  auto& acceptor = acceptors_[listener];
  acceptor = std::make_unique<tcp::acceptor>(io_);
  std::uint16_t bound = net::open_listener(*acceptor, address, port);
  accept(*acceptor, listener);
  return bound;
}

void client_proxy::set_leader(const std::string& host, std::uint16_t port) {
  leader_host_ = host;
  leader_port_ = port;
}

void client_proxy::accept(tcp::acceptor& acceptor, const std::string& listener) {
  acceptor.async_accept([this, alive = alive_, &acceptor, listener](const boost::system::error_code& ec, tcp::socket client) {
    if (!*alive || ec == asio::error::operation_aborted) return;
    if (!ec) pass_on(std::move(client), listener);
    accept(acceptor, listener);
  });
}

void client_proxy::pass_on(tcp::socket client, const std::string& listener) {
  net::peer_identity peer = net::peer_of(client);
  boost::system::error_code ec;
  if (leader_host_.empty()) {
    client.close(ec);  // no leader known yet: the client retries
    return;
  }
  // Resolved at each client: the leader may move.
  std::optional<tcp::endpoint> found = net::endpoint_for(io_, leader_host_, leader_port_);
  if (!found) {
    unreachable("cannot resolve the leader's host " + leader_host_);
    client.close(ec);
    return;
  }
  tcp::endpoint leader = *found;
  client.set_option(tcp::no_delay(true), ec);
  auto p = std::make_shared<pipe>(std::move(client), io_);
  std::uint64_t id = next_pipe_++;
  pipes_[id] = p;
  p->ended = [this, alive = alive_, id] {
    if (*alive) pipes_.erase(id);
  };
  p->deadline.expires_after(reach_timeout);
  p->deadline.async_wait([weak = std::weak_ptr<pipe>(p)](const boost::system::error_code& timer_ec) {
    if (auto live = weak.lock(); live && !timer_ec) live->close();
  });
  forward f{options_.node_id, listener, peer.address, peer.port, {}};
  p->leader.async_connect(leader, [this, alive = alive_, p, f = std::move(f), leader](const boost::system::error_code& cec) mutable {
    if (!*alive) return p->close();
    if (cec) {
      unreachable("cannot reach the leader at " + leader.address().to_string() + ":" + std::to_string(leader.port()) +
                  ": " + cec.message());
      return p->close();
    }
    last_failure_.clear();
    boost::system::error_code ignored;
    p->leader.set_option(tcp::no_delay(true), ignored);
    p->greet(std::move(f), options_.secret);
  });
}

// Once per cause: during a failover every reconnecting client meets it.
void client_proxy::unreachable(const std::string& why) {
  if (why == last_failure_) return;
  last_failure_ = why;
  if (options_.log) options_.log("forwarding clients: " + why);
}

}  // namespace roost::replication
