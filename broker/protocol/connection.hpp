// The AMQP side of one client connection, without any socket: bytes in,
// frames parsed and dispatched, bytes out.
//
// stream_session owns the socket (or TLS stream) and feeds this object;
// everything protocol lives here, so the handshake, framing errors and
// channel life cycle are testable without the network. Lives on the broker thread. The session is
// told about new output and about the end through connection_events.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp/frame.hpp"
#include "amqp/reply_code.hpp"
#include "broker/flow/publisher_holds.hpp"
#include "broker/model/message.hpp"
#include "broker/transport/outbound_buffer.hpp"

namespace roost {

class broker;
class channel;
class queue;
class vhost;
struct user_account;

class connection_events {
 public:
  virtual ~connection_events() = default;
  // outbound() has new bytes.
  virtual void output_ready() = 0;
  // Write what is in outbound(), then close the socket.
  virtual void close_after_flush() = 0;
  // We sent connection.close; the peer has a while to answer close-ok.
  virtual void closing_started() = 0;
  // The reader may go on: input held by hold_input() was released, or a
  // queue stopped holding this connection's publishes back.
  virtual void input_released() = 0;
  // The broker is stopping and the peer did not finish in time: drop the socket now.
  virtual void abort() = 0;
};

class connection {
 public:
  enum class state { awaiting_header, awaiting_start_ok, awaiting_tune_ok, awaiting_open, open, closing, closed };

  connection(broker& b, connection_events& events, std::string peer, bool peer_is_loopback);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // Consumes whole frames from the front of `bytes` and returns how many
  // bytes it used; the rest is an incomplete frame to call again with.
  std::size_t consume(std::string_view bytes);
  // The largest frame the peer may send now; a reader sizes its buffer by it.
  std::uint32_t frame_limit() const { return frame_max_; }

  outbound_buffer& outbound() { return out_; }
  bool over_high_water() const;
  // The reader should not read now: our own output is backed up, or this
  // connection publishes and the store is far behind (then the client is
  // told with connection.blocked, if it understands it), or a queue it just
  // published to is backing up while consumed (flow control; the client is
  // told nothing, TCP pushes back).
  bool should_pause_reading();
  void note_publish() { has_published_ = true; }
  // This connection just published to `q`, which holds its publishers back
  // (publisher_flow.hpp): pause reading until it lets go. Not when this
  // connection consumes from `q`: its acks are what drain the queue.
  void hold_for_queue(queue& q);
  // Paused by flow control (the admin API's state "flow").
  bool in_flow() const { return !holds_.empty(); }
  // A reply must wait for the store (a basic.get of a message on disk):
  // stop processing frames, keeping the rest of the input, until released.
  void hold_input() { input_held_ = true; }
  void release_input();
  // The session wrote a batch; consumers paused by back-pressure may resume.
  void output_drained();
  // Server-side close (shutdown, admin API): connection.close with this code.
  void close(amqp::connection_reply code, std::string_view text);
  // connection.close 320 CONNECTION_FORCED with this text, and everything the
  // connection holds in its vhost let go of at once: its user or its vhost
  // is being deleted. has_vhost() is false afterwards.
  void force_close(const std::string& text);
  // The socket is gone (EOF, error, heartbeat timeout): release everything.
  void transport_closed(std::string_view reason);
  // Shutdown grace period over: drop the socket without further ado.
  void abort() { events_.abort(); }
  // The session completed a TLS handshake; client_name is the CN of the
  // client's verified certificate (empty: none), which SASL EXTERNAL logs
  // in as. Called before the protocol header is read, so connection.start
  // offers EXTERNAL only where it can succeed.
  void secured_by_tls(std::string client_name);
  bool over_tls() const { return over_tls_; }

  state current_state() const { return state_; }
  std::uint16_t heartbeat_seconds() const { return heartbeat_; }
  std::uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  const std::string& user() const { return user_; }
  // The user had the impersonator tag when it logged in: it may publish with
  // another user_id. As in RabbitMQ, tags are read once, at login.
  bool impersonator() const { return impersonator_; }
  vhost& vh() { return *vhost_; }
  const vhost& vh() const { return *vhost_; }
  broker& owner() { return broker_; }
  std::uint32_t frame_max() const { return frame_max_; }
  bool consumer_cancel_notify() const { return cancel_notify_; }
  bool has_vhost() const { return vhost_ != nullptr; }
  std::uint16_t channel_max() const { return channel_max_; }
  bool blocked() const { return blocked_; }
  std::chrono::steady_clock::time_point opened_at() const { return opened_at_; }
  const std::unordered_map<std::uint16_t, std::unique_ptr<channel>>& channels() const { return channels_; }

  template <class M>
  void send(std::uint16_t channel, const M& m) {
    amqp::append_method_frame(out_.bytes(), channel, m);
    output_appended();
  }
  // Frames were appended to outbound() directly: note back-pressure, wake the writer.
  void output_appended();
  // Content header and body frames of a message.
  void send_content(std::uint16_t channel, const message_ref& msg);

  // Connection-class methods a client may send on channel 0; any other
  // known method there is answered 503 COMMAND_INVALID.
  void on(const amqp::connection_start_ok& m);
  void on(const amqp::connection_tune_ok& m);
  void on(const amqp::connection_open& m);
  void on(const amqp::connection_update_secret& m);
  void on(const amqp::connection_close& m);
  void on(const amqp::connection_close_ok& m);

 private:
  void consume_header(std::string_view bytes);
  void handle_frame(const amqp::frame_header& h, std::string_view payload);
  void handle_connection_frame(const amqp::frame_header& h, std::string_view payload);
  void handle_channel_frame(const amqp::frame_header& h, std::string_view payload);
  void channel_method(channel*& ch, std::uint16_t number, std::uint32_t key, amqp::wire_reader& in);
  void fail_channel(std::uint16_t number, std::uint16_t code, const std::string& text, std::uint32_t key);
  void fail_connection(std::uint16_t code, const std::string& text, std::uint32_t key);
  // Sends connection.close and waits for close-ok.
  void send_close(std::uint16_t code, const std::string& text, std::uint32_t key);
  channel* find_channel(std::uint16_t number);
  void open_channel(channel* existing, std::uint16_t number);
  // A framing error: connection.close, then close the socket without waiting.
  void hang_up(amqp::connection_reply code, const std::string& detail);
  void release_all();
  void send_start();
  // The account start-ok logs in as, by its mechanism (user_ set to the
  // name it gave); null when refused.
  const user_account* authenticate(const amqp::connection_start_ok& m);
  // connection.open: the vhost's and the user's connection limits, then
  // the user's permissions in v (RabbitMQ's order; connection_access.cpp);
  // 530 when refused.
  void check_vhost_access(const vhost& v);
  // channel.open: the user's channel limit, across its connections.
  bool within_user_channel_limit();
  // A connection method where it does not belong: 504 CHANNEL_ERROR naming
  // the state as RabbitMQ does ("opening", "running").
  void expect_state(state s);
  // Updates blocked_ from the broker's alarms, telling the client of a change.
  void update_blocked();
  // Drops the queues that no longer hold this connection back; true if some still do.
  bool held_by_queues();
  bool consumes_from(const queue& q) const;
  // What a queue calls when it lets this connection's publishes go.
  publisher_holds::wake_fn reader_wakeup() const;

  broker& broker_;
  connection_events& events_;
  std::string peer_;
  bool peer_is_loopback_;
  std::uint64_t id_;
  state state_ = state::awaiting_header;
  outbound_buffer out_;
  std::string user_;
  vhost* vhost_ = nullptr;
  std::uint16_t channel_max_;
  std::uint32_t frame_max_;
  std::uint16_t heartbeat_ = 0;
  bool over_tls_ = false;
  std::string certificate_user_;  // the verified client certificate's CN: EXTERNAL's user
  bool cancel_notify_ = false;
  bool auth_failure_close_ = false;  // the client wants a 403 close rather than a dropped socket
  bool impersonator_ = false;        // the user's tags at login included impersonator
  bool blocked_capability_ = false;   // the client understands connection.blocked
  bool has_published_ = false;
  bool input_held_ = false;
  bool blocked_ = false;
  bool paused_ = false;  // consumers paused by outbound back-pressure
  // The queues (in vh()) holding this connection's publishes back.
  publisher_holds holds_;
  std::unordered_map<std::uint16_t, std::unique_ptr<channel>> channels_;
  // Channels we sent channel.close on, discarding frames until close-ok.
  std::vector<std::uint16_t> closing_channels_;
  std::chrono::steady_clock::time_point opened_at_;
};

}  // namespace roost
