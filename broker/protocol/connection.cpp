// Framing and channel life cycle for one connection: splits the byte stream
// into frames, checks them, and hands them to the connection or channel
// they belong to. Errors are caught here and nowhere else: channel errors
// close the channel, connection errors close the connection.
#include "broker/protocol/connection.hpp"

#include <algorithm>
#include <unordered_map>

#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

namespace {

constexpr std::uint32_t channel_open_key = amqp::channel_open::id.key();
constexpr std::uint32_t channel_close_key = amqp::channel_close::id.key();
constexpr std::uint32_t channel_close_ok_key = amqp::channel_close_ok::id.key();
constexpr std::uint32_t connection_close_key = amqp::connection_close::id.key();
constexpr std::uint32_t connection_close_ok_key = amqp::connection_close_ok::id.key();

[[noreturn]] void frame_error(const std::string& text) {
  throw connection_error(amqp::connection_reply::frame_error, text);
}

// RabbitMQ names no method when it refuses a frame for arriving at all.
[[noreturn]] void unexpected_frame(const std::string& text) {
  throw connection_error(amqp::connection_reply::unexpected_frame, text, 0);
}

// Reply texts are shortstrs: RabbitMQ cuts longer ones to 252 bytes and "...".
std::string reply_text(const std::string& text) {
  if (text.size() <= 255) return text;
  return text.substr(0, 252) + "...";
}

// Bytes the way Erlang prints a binary, <<0,5,97>>, as RabbitMQ's texts show them.
std::string erlang_binary(std::string_view bytes) {
  std::string out = "<<";
  for (std::size_t i = 0; i < bytes.size() && out.size() < 200; ++i) {
    if (i > 0) out += ',';
    out += std::to_string(static_cast<unsigned char>(bytes[i]));
  }
  return out + ">>";
}

}  // namespace

connection::connection(broker& b, connection_events& events, std::string peer, bool peer_is_loopback)
    : broker_(b),
      events_(events),
      peer_(std::move(peer)),
      peer_is_loopback_(peer_is_loopback),
      id_(b.register_connection(this)),
      channel_max_(b.cfg().channel_max),
      frame_max_(b.cfg().frame_max),
      opened_at_(std::chrono::steady_clock::now()) {}

connection::~connection() {
  release_all();
  broker_.unregister_connection(id_);
}

void connection::send_content(std::uint16_t channel, const message_ref& msg) {
  amqp::append_content_header(out_.bytes(), channel, msg->body.size(), msg->properties);
  out_.append_body_frames(channel, msg, frame_max_);
  output_appended();
}

std::size_t connection::consume(std::string_view bytes) {
  std::size_t used = 0;
  if (state_ == state::awaiting_header) {
    if (bytes.size() < amqp::protocol_header.size()) return 0;
    consume_header(bytes.substr(0, amqp::protocol_header.size()));
    used = amqp::protocol_header.size();
  }
  while (state_ != state::closed && !input_held_ && bytes.size() - used >= amqp::frame_header_size) {
    auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data() + used);
    amqp::frame_header h = amqp::parse_frame_header(p);
    // RabbitMQ accepts payloads up to frame_max itself, 8 bytes more than the
    // spec allows, because some clients count that way; so do we.
    if (h.size > frame_max_) {
      hang_up(amqp::connection_reply::frame_error,
              "frame size " + std::to_string(h.size) + " exceeds negotiated frame_max " + std::to_string(frame_max_));
      return bytes.size();
    }
    if (bytes.size() - used < h.size + amqp::frame_overhead) break;
    if (p[amqp::frame_header_size + h.size] != amqp::frame_end) {
      hang_up(amqp::connection_reply::frame_error, "frame_end octet is not 0xCE");
      return bytes.size();
    }
    handle_frame(h, bytes.substr(used + amqp::frame_header_size, h.size));
    used += h.size + amqp::frame_overhead;
  }
  for (auto& [number, ch] : channels_) ch->flush_confirms();
  return state_ == state::closed ? bytes.size() : used;
}

void connection::hang_up(amqp::connection_reply code, const std::string& detail) {
  // The stream cannot be trusted past a broken frame: say why and hang up.
  fail_connection(static_cast<std::uint16_t>(code), std::string(amqp::reply_name(code)) + " - " + detail, 0);
  state_ = state::closed;
  events_.close_after_flush();
}

void connection::consume_header(std::string_view bytes) {
  if (bytes != amqp::protocol_header) {
    // Spec 4.2.2: answer with the protocol we speak, then close.
    out_.bytes().append(amqp::protocol_header);
    state_ = state::closed;
    log::info("connection " + peer_ + " rejected: bad protocol header");
    events_.close_after_flush();
    return;
  }
  send_start();
  state_ = state::awaiting_start_ok;
}

void connection::handle_frame(const amqp::frame_header& h, std::string_view payload) {
  std::uint32_t key = 0;
  try {
    if (h.type == static_cast<std::uint8_t>(amqp::frame_type::method)) {
      amqp::wire_reader in(payload);
      std::uint16_t class_id = in.u16();
      key = amqp::method_key(class_id, in.u16());
    }
    if (state_ == state::closing) {
      // Waiting for close-ok: everything else is discarded.
      if (h.channel == 0 && (key == connection_close_ok_key || key == connection_close_key)) {
        if (key == connection_close_key) send(0, amqp::connection_close_ok{});
        state_ = state::closed;
        events_.close_after_flush();
      }
      return;
    }
    switch (static_cast<amqp::frame_type>(h.type)) {
      case amqp::frame_type::heartbeat:
        if (h.channel != 0) unexpected_frame("heartbeat frame on channel " + std::to_string(h.channel));
        if (!payload.empty()) frame_error("heartbeat frame with a payload");
        return;
      case amqp::frame_type::method:
      case amqp::frame_type::header:
      case amqp::frame_type::body:
        if (h.channel == 0) handle_connection_frame(h, payload);
        else handle_channel_frame(h, payload);
        return;
    }
    frame_error("unknown frame type " + std::to_string(h.type));
  } catch (const connection_error& e) {
    fail_connection(static_cast<std::uint16_t>(e.code()), e.what(), e.blamed_method().value_or(key));
  } catch (const amqp::decode_error&) {
    // RabbitMQ reports undecodable arguments as 501 FRAME_ERROR, naming the method.
    fail_connection(static_cast<std::uint16_t>(amqp::connection_reply::frame_error),
                    "FRAME_ERROR - cannot decode " + erlang_binary(payload), key);
  }
}

void connection::handle_connection_frame(const amqp::frame_header& h, std::string_view payload) {
  if (h.type != static_cast<std::uint8_t>(amqp::frame_type::method))
    unexpected_frame("expected method frame, got non method frame instead");
  amqp::wire_reader in(payload);
  std::uint16_t class_id = in.u16();
  std::uint32_t key = amqp::method_key(class_id, in.u16());
  auto handler = amqp::dispatch_table<connection>::find(key);
  if (handler == nullptr) {
    if (state_ == state::open && class_id != amqp::connection_start::id.class_id)
      throw connection_error(amqp::connection_reply::channel_error, "unexpected method in connection state running");
    throw_unexpected_method(key);
  }
  handler(*this, in);
}

void connection::handle_channel_frame(const amqp::frame_header& h, std::string_view payload) {
  if (state_ != state::open) unexpected_frame("expected method frame, got non method frame instead");
  auto closing = std::find(closing_channels_.begin(), closing_channels_.end(), h.channel);
  amqp::wire_reader in(payload);
  std::uint32_t key = 0;
  bool is_method = h.type == static_cast<std::uint8_t>(amqp::frame_type::method);
  if (is_method) {
    std::uint16_t class_id = in.u16();
    key = amqp::method_key(class_id, in.u16());
  }
  if (closing != closing_channels_.end()) {
    if (key == channel_close_ok_key) closing_channels_.erase(closing);
    if (key == channel_close_key) send(h.channel, amqp::channel_close_ok{});
    return;
  }
  channel* ch = find_channel(h.channel);
  if (ch == nullptr && !is_method) unexpected_frame("expected method frame, got non method frame instead");
  if (key == channel_open_key) {
    open_channel(ch, h.channel);
    return;
  }
  if (is_method && (key >> 16) == amqp::connection_start::id.class_id)
    throw connection_error(amqp::connection_reply::command_invalid, "unimplemented method");
  if (ch == nullptr) throw connection_error(amqp::connection_reply::channel_error, "expected 'channel.open'");
  if (key == channel_close_key) {
    ch->release();
    channels_.erase(h.channel);
    send(h.channel, amqp::channel_close_ok{});
    return;
  }
  try {
    switch (static_cast<amqp::frame_type>(h.type)) {
      case amqp::frame_type::method: ch->handle_method(key, in); break;
      case amqp::frame_type::header: ch->handle_header(in); break;
      default: ch->handle_body(payload); break;
    }
  } catch (const channel_error& e) {
    // A content frame finishes a basic.publish, which RabbitMQ names in the close.
    fail_channel(h.channel, static_cast<std::uint16_t>(e.code()), e.what(),
                 is_method ? key : amqp::basic_publish::id.key());
  }
}

void connection::open_channel(channel* existing, std::uint16_t number) {
  if (existing != nullptr) throw connection_error(amqp::connection_reply::channel_error, "second 'channel.open' seen");
  // RabbitMQ limits how many channels are open, not which numbers they use.
  if (channels_.size() >= channel_max_) {
    std::string n = std::to_string(channel_max_);
    fail_connection(static_cast<std::uint16_t>(amqp::connection_reply::not_allowed),
                    "NOT_ALLOWED - number of channels opened (" + n + ") has reached the negotiated channel_max (" +
                        n + ")",
                    0);
    return;
  }
  if (!within_user_channel_limit()) return;
  channels_.emplace(number, std::make_unique<channel>(*this, number));
  send(number, amqp::channel_open_ok{});
}

void connection::fail_channel(std::uint16_t number, std::uint16_t code, const std::string& text,
                              std::uint32_t key) {
  log::debug("connection " + peer_ + " channel " + std::to_string(number) + " closed: " + text);
  if (channel* ch = find_channel(number)) ch->release();
  channels_.erase(number);
  closing_channels_.push_back(number);
  send(number, amqp::channel_close{code, reply_text(text), static_cast<std::uint16_t>(key >> 16),
                                   static_cast<std::uint16_t>(key & 0xffff)});
}

void connection::fail_connection(std::uint16_t code, const std::string& text, std::uint32_t key) {
  log::info("connection " + peer_ + " closing: " + text);
  release_all();
  if (state_ == state::awaiting_start_ok || state_ == state::awaiting_tune_ok) {
    // RabbitMQ answers handshake violations by closing the socket, without connection.close.
    state_ = state::closed;
    events_.close_after_flush();
    return;
  }
  send_close(code, text, key);
}

void connection::send_close(std::uint16_t code, const std::string& text, std::uint32_t key) {
  send(0, amqp::connection_close{code, reply_text(text), static_cast<std::uint16_t>(key >> 16),
                                 static_cast<std::uint16_t>(key & 0xffff)});
  state_ = state::closing;
  events_.closing_started();
}

void connection::close(amqp::connection_reply code, std::string_view text) {
  if (state_ == state::closing || state_ == state::closed) return;
  if (state_ != state::open) {
    state_ = state::closed;
    events_.close_after_flush();
    return;
  }
  fail_connection(static_cast<std::uint16_t>(code),
                  std::string(amqp::reply_name(code)) + " - " + std::string(text), 0);
}

void connection::force_close(const std::string& text) {
  close(amqp::connection_reply::connection_forced, text);
  release_all();
  vhost_ = nullptr;
}

void connection::transport_closed(std::string_view reason) {
  if (state_ != state::closed && state_ != state::awaiting_header)
    log::info("connection " + peer_ + " closed: " + std::string(reason));
  state_ = state::closed;
  release_all();
}

channel* connection::find_channel(std::uint16_t number) {
  auto it = channels_.find(number);
  return it == channels_.end() ? nullptr : it->second.get();
}

void connection::release_all() {
  // Consumers first, so that messages requeued by one channel are not
  // delivered to another channel of this same, closing connection.
  for (auto& [number, ch] : channels_) ch->cancel_all_consumers();
  for (auto& [number, ch] : channels_) ch->release();
  channels_.clear();
  if (vhost_ != nullptr) vhost_->drop_exclusive_queues(id_);
}

}  // namespace roost
