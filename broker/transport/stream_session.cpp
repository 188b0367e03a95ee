// Socket I/O for one connection. The reader grows its buffer only as far as
// the frames it must hold; the writer swaps the connection's outbound buffer
// with its own and writes the whole batch at once. Through TLS the same:
// one read takes what the stream has decrypted (up to a TLS record), one
// write hands the whole batch to the stream, which seals it into full records.
#include "broker/transport/stream_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "net/loopback_tcp.hpp"
#include "net/tcp_listener.hpp"
#include "net/tls_peer.hpp"

namespace roost {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t initial_read_buffer = 4096;
constexpr std::size_t idle_buffer_limit = 64 * 1024;  // shrink back past this once drained
// A busy stream's reads may grow the buffer to this (or one whole frame, if
// larger): each wake-up of the reader should take many frames, not one.
constexpr std::size_t busy_read_buffer = 128 * 1024;
// Input is handed to the connection in slices of about this much, with a
// turn of the event loop between them (see process_input).
constexpr std::size_t fair_slice = 8 * 1024;
constexpr auto close_ok_timeout = 3s;
constexpr auto linger_timeout = 10s;

// A client that closed its end: EOF, and through TLS also a close without
// close_notify (what most clients do after connection.close-ok).
bool closed_by_client(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

template <class Stream>
stream_session<Stream>::stream_session(broker& b, Stream stream, const net::peer_identity& peer)
    : stream_(std::move(stream)),
      writer_wake_(stream_.get_executor()),
      reader_wake_(stream_.get_executor()),
      watchdog_timer_(stream_.get_executor()),
      last_read_(std::chrono::steady_clock::now()),
      last_write_(last_read_) {
  boost::system::error_code ec;
  socket().set_option(tcp::no_delay(true), ec);
  // A loopback listener chose it already; a wildcard one can only switch
  // now. The socket's own end decides: a forwarded client's may differ.
  if (net::peer_of(socket()).loopback) net::use_unpaced_congestion_control(socket().native_handle());
  connection_events& events = *this;
  connection_ = std::make_unique<connection>(b, events, peer.describe(), peer.loopback);
  log::debug("connection " + connection_->peer() + " accepted" + (is_tls ? " (TLS)" : ""));
}

template <class Stream>
stream_session<Stream>::~stream_session() = default;

template <class Stream>
tcp::socket& stream_session<Stream>::socket() {
  if constexpr (is_tls) return stream_.next_layer();
  else return stream_;
}

template <class Stream>
void stream_session<Stream>::start() {
  auto self = this->shared_from_this();
  auto ex = stream_.get_executor();
  asio::co_spawn(ex, [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(ex, [self] { return self->writer(); }, asio::detached);
  asio::co_spawn(ex, [self] { return self->watchdog(); }, asio::detached);
}

template <class Stream>
void stream_session<Stream>::output_ready() {
  if (writer_waiting_) writer_wake_.cancel();
}

template <class Stream>
void stream_session<Stream>::close_after_flush() {
  close_after_flush_ = true;
  writer_wake_.cancel();
}

template <class Stream>
void stream_session<Stream>::closing_started() {
  close_requested_at_ = std::chrono::steady_clock::now();
  watchdog_timer_.cancel();
}

template <class Stream>
void stream_session<Stream>::shut_down(std::string_view reason) {
  if (shut_down_) return;
  shut_down_ = true;
  connection_->transport_closed(reason);
  boost::system::error_code ec;
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
  writer_wake_.cancel();
  reader_wake_.cancel();
  watchdog_timer_.cancel();
}

template <class Stream>
asio::awaitable<bool> stream_session<Stream>::open_stream() {
  if constexpr (is_tls) {
    boost::system::error_code ec;
    co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // Also what a plain AMQP client on this port gets: its protocol header is no TLS hello.
      log::info("connection " + connection_->peer() + " closed: TLS handshake failed: " + ec.message());
      shut_down("TLS handshake failed");
      co_return false;
    }
    connection_->secured_by_tls(net::verified_client_name(stream_.native_handle()));
  }
  co_return true;
}

template <class Stream>
asio::awaitable<void> stream_session<Stream>::reader() {
  if (!co_await open_stream()) co_return;
  input_.resize(initial_read_buffer);
  std::size_t filled = 0;
  bool last_read_filled = false;
  bool opened = false;
  boost::system::error_code ec;
  while (!shut_down_) {
    // Back-pressure: a client that does not read what we send, a publisher
    // outrunning the store, or one whose queue backs up while consumed, stops
    // being read. The writer and the queue wake us early; the timer re-checks
    // the store and lets a queue notice that its consumers are stuck.
    bool paused = false;
    while (!shut_down_ && connection_->should_pause_reading()) {
      paused = true;
      reader_wake_.expires_after(std::chrono::milliseconds(10));
      co_await reader_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (paused) last_read_ = std::chrono::steady_clock::now();  // the heartbeat clock restarts with reading
    if (paused && filled > 0) {
      // Frames that arrived while input was held are processed before reading more.
      filled = co_await process_input(filled);
      continue;
    }
    if (filled == input_.size() || (last_read_filled && input_.size() < busy_read_buffer)) {
      std::size_t limit = std::max(busy_read_buffer, std::size_t{connection_->frame_limit()} + amqp::frame_overhead);
      input_.resize(std::max(std::min(input_.size() * 2, limit), filled + 1));
    }
    std::size_t n = co_await stream_.async_read_some(asio::buffer(input_.data() + filled, input_.size() - filled),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      shut_down(closed_by_client(ec) ? "client closed TCP connection" : ec.message());
      break;
    }
    last_read_ = std::chrono::steady_clock::now();
    last_read_filled = n == input_.size() - filled;  // more was probably waiting
    filled = co_await process_input(filled + n);
    if (!opened && connection_->current_state() == connection::state::open) {
      // The watchdog sleeps until the handshake deadline; heartbeats start now.
      opened = true;
      watchdog_timer_.cancel();
    }
    // Shrink once the stream has gone quiet (a small read left nothing
    // pending), not after every drained read: under large messages that would
    // free and fault in the same big buffer again on each read.
    if (filled == 0 && n < initial_read_buffer && input_.size() > idle_buffer_limit) {
      input_.resize(initial_read_buffer);
      input_.shrink_to_fit();
    }
  }
}

// A publisher's full read (128 KiB, some 1,500 small messages) takes a few
// hundred microseconds to route. Taken in one go, it would hold up every
// other connection that long: a consumer's acks would wait to be read and
// the deliveries they free to be written, and with a prefetch window that
// round trip is what sets the consumer's pace. So the frames go in slices,
// and other connections get their turn in between. Between slices the
// reader also stops as soon as it must pause (flow control, alarms).
template <class Stream>
asio::awaitable<std::size_t> stream_session<Stream>::process_input(std::size_t filled) {
  std::size_t done = 0;
  while (done < filled && !shut_down_) {
    std::string_view rest(input_.data() + done, filled - done);
    std::size_t used = connection_->consume(rest.substr(0, fair_slice));
    if (used == 0 && rest.size() > fair_slice) used = connection_->consume(rest);  // one frame larger than a slice
    if (used == 0) break;  // an incomplete frame, or input held
    done += used;
    if (done == filled || connection_->should_pause_reading()) break;
    co_await asio::post(stream_.get_executor(), asio::use_awaitable);
  }
  std::memmove(input_.data(), input_.data() + done, filled - done);
  co_return filled - done;
}

template <class Stream>
asio::awaitable<void> stream_session<Stream>::writer() {
  boost::system::error_code ec;
  while (!shut_down_) {
    outbound_buffer& out = connection_->outbound();
    if (out.empty()) {
      if (close_after_flush_) {
        // As RabbitMQ: after the last frame, let the client close first
        // (it may still be writing); the watchdog bounds the wait.
        // Through TLS without a close_notify: sending one means a TLS
        // shutdown, which would read from the stream the reader is reading.
        // Clients close on connection.close-ok and do not wait for one.
        socket().shutdown(tcp::socket::shutdown_send, ec);
        lingering_since_ = std::chrono::steady_clock::now();
        watchdog_timer_.cancel();
        co_return;
      }
      writer_waiting_ = true;
      writer_wake_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await writer_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      writer_waiting_ = false;
      continue;
    }
    writing_.swap(out);
    gather_.clear();
    writing_.for_each_piece([this](std::string_view piece) { gather_.emplace_back(piece.data(), piece.size()); });
    co_await asio::async_write(stream_, gather_, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      shut_down(ec.message());
      co_return;
    }
    last_write_ = std::chrono::steady_clock::now();
    // Same rule for the write buffer: give it back after a small write, once traffic has calmed down.
    bool quiet = writing_.size() < initial_read_buffer;
    writing_.clear();
    if (quiet && writing_.capacity() > idle_buffer_limit && connection_->outbound().empty())
      writing_.release_memory();
    connection_->output_drained();
    reader_wake_.cancel();
  }
  shut_down("connection closed");
}

template <class Stream>
asio::awaitable<void> stream_session<Stream>::watchdog() {
  using clock = std::chrono::steady_clock;
  auto started = clock::now();
  auto handshake_timeout = std::chrono::milliseconds(connection_->owner().cfg().handshake_timeout_ms);
  boost::system::error_code ec;
  while (!shut_down_) {
    auto now = clock::now();
    auto state = connection_->current_state();
    auto tick = std::chrono::duration_cast<clock::duration>(1s);
    if (lingering_since_ != clock::time_point{}) {
      if (now - lingering_since_ >= linger_timeout) shut_down("client did not close its side");
      tick = linger_timeout - (now - lingering_since_);
    } else if (state == connection::state::closing) {
      if (now - close_requested_at_ >= close_ok_timeout) shut_down("no connection.close-ok from client");
      tick = close_ok_timeout - (now - close_requested_at_);
    } else if (state != connection::state::open && state != connection::state::closed) {
      if (now - started >= handshake_timeout) {
        // Past the protocol header, transport_closed logs the close itself.
        if (state == connection::state::awaiting_header)
          log::info("connection " + connection_->peer() + " closed: handshake timeout");
        shut_down("handshake timeout");
      }
      tick = handshake_timeout - (now - started);  // wake at the deadline, not up to a tick after it
    } else if (state == connection::state::open && connection_->heartbeat_seconds() > 0) {
      auto interval = std::chrono::seconds(connection_->heartbeat_seconds());
      // A publisher we stopped reading on purpose (alarm, flow control) may
      // have sent heartbeats we have not read: its silence is ours, as when
      // RabbitMQ pauses its heartbeat monitor for a blocked connection.
      bool held = connection_->blocked() || connection_->in_flow();
      if (!held && now - last_read_ > 2 * interval) {
        shut_down("missed heartbeats from client, timeout: " + std::to_string(interval.count()) + "s");
        break;
      }
      if (now - last_write_ >= interval / 2) {
        amqp::append_heartbeat(connection_->outbound().bytes());
        output_ready();
      }
      tick = std::chrono::duration_cast<clock::duration>(interval) / 2;
    } else {
      tick = std::chrono::duration_cast<clock::duration>(30s);
    }
    watchdog_timer_.expires_after(tick);
    co_await watchdog_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

template class stream_session<tcp::socket>;
template class stream_session<tls_stream>;

}  // namespace roost
