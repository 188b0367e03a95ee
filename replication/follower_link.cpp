#include "replication/follower_link.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <utility>

#include "net/tcp_listener.hpp"
#include "replication/link_stream.hpp"
#include "storage/batch_codec.hpp"

namespace roost::replication {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Between attempts to reach a leader that is not (yet) there.
constexpr auto retry_interval = 300ms;

}  // namespace

follower_link::follower_link(asio::io_context& io, follower_link_options options, storage::store& store,
                             storage::batch_position position, batch_log retained)
    : io_(io),
      options_(std::move(options)),
      store_(store),
      position_(position),
      retained_(std::move(retained)),
      received_seq_(position.seq),
      retry_timer_(io) {}

follower_link::~follower_link() {
  *alive_ = false;
  if (link_) link_->close();
}

void follower_link::follow(std::string host, std::uint16_t port) {
  if (host == host_ && port == port_ && link_) return;
  host_ = std::move(host);
  port_ = port;
  drop("following a new leader");
  connect();
}

void follower_link::connect() {
  if (host_.empty() || installing_) return;
  // Batches of the last connection still in the store would be applied
  // twice: the new one starts from what is committed, so wait for them.
  if (unsettled_ > 0) {
    connect_when_settled_ = true;
    return;
  }
  link_ = std::make_unique<link_stream>(tcp::socket(io_));
  proven_ = false;
  outgoing_.clear();
  received_seq_ = position_.seq;
  std::optional<tcp::endpoint> leader = net::endpoint_for(io_, host_, port_);
  if (!leader) return retry_later();
  link_->socket().async_connect(*leader, [this, alive = alive_, link = link_.get()](const boost::system::error_code& cec) {
    if (!*alive || link != link_.get()) return;
    if (cec) return retry_later();
    boost::system::error_code ignored;
    link->socket().set_option(tcp::no_delay(true), ignored);
    if (options_.tls != nullptr) return start_tls();
    // Says it comes to replicate (link_messages.hpp); the leader answers with its challenge.
    asio::async_write(*link, asio::buffer(&replicate_preface, 1), [](boost::system::error_code, std::size_t) {});
    read_frame();
  });
}

// The leader's certificate must chain to --tls-ca and name the host it
// advertised: a follower takes batches only from the real leader.
void follower_link::start_tls() {
  link_->start_tls(*options_.tls);
  link_->tls()->set_verify_callback(asio::ssl::host_name_verification(host_));
  link_->tls()->async_handshake(asio::ssl::stream_base::client, [this, alive = alive_, link = link_.get()](
                                                                     const boost::system::error_code& ec) {
    if (!*alive || link != link_.get()) return;
    if (ec) {
      if (ec.message() != refused_) log("replication: TLS handshake with the leader at " + host_ + ":" +
                                        std::to_string(port_) + " failed: " + ec.message());
      refused_ = ec.message();
      return drop(ec.message()), retry_later();
    }
    read_frame();
  });
}

void follower_link::read_frame() {
  link_stream* link = link_.get();
  asio::async_read(*link, asio::buffer(header_), [this, alive = alive_, link](boost::system::error_code ec, std::size_t) {
    if (!*alive || link != link_.get()) return;
    if (ec) return drop(ec.message()), retry_later();
    frame_header h;
    try {
      h = parse_frame_header({header_.data(), header_.size()}, proven_ ? max_frame : max_handshake_frame);
    } catch (const bad_message& e) {
      return drop(e.what()), retry_later();
    }
    payload_.resize(h.payload_size);
    asio::async_read(*link, asio::buffer(payload_), [this, alive, link, h](boost::system::error_code read_ec, std::size_t) {
      if (!*alive || link != link_.get()) return;
      if (read_ec) return drop(read_ec.message()), retry_later();
      try {
        handle(h.type);
      } catch (const std::exception& e) {
        return drop(e.what()), retry_later();
      }
      if (link_.get() == link) read_frame();
    });
  });
}

void follower_link::handle(message_type type) {
  switch (type) {
    case message_type::challenge: {
      std::string nonce = parse_challenge(payload_);
      proven_ = true;  // from here the leader's answer is batches or a refusal
      send(hello_frame({options_.node_id, position_, hello_proof(options_.secret, nonce, options_.node_id)}));
      return;
    }
    case message_type::refuse: {
      std::string why = parse_refuse(payload_);
      if (why != refused_) log("replication: the leader refused this follower: " + why);
      refused_ = why;
      throw bad_message("the leader refused this follower: " + why);
    }
    case message_type::snapshot_chunk:
      return receive_snapshot_chunk();
    case message_type::snapshot_end:
      return finish_snapshot();
    case message_type::batch:
      if (!proven_) throw bad_message("a batch before the handshake");
      refused_.clear();
      apply(std::make_shared<const std::string>(std::move(payload_)));
      payload_.clear();
      return;
    default:
      throw bad_message("unexpected replication message from the leader");
  }
}

void follower_link::apply(std::shared_ptr<const std::string> encoded) {
  storage::decoded_batch batch = storage::decode_batch(encoded);
  if (batch.position.seq != received_seq_ + 1)
    throw bad_message("the leader sent batch " + std::to_string(batch.position.seq) + " after " +
                      std::to_string(received_seq_));
  received_seq_ = batch.position.seq;
  retained_.append(received_seq_, std::move(encoded));
  storage::batch_position position = batch.position;
  ++unsettled_;
  store_.submit(std::move(batch.ops), [this, alive = alive_, position](bool ok) {
    if (!*alive) return;
    --unsettled_;
    if (ok) {
      position_ = position;
      send(ack_frame(position.seq));
    } else {
      drop("the store could not commit batch " + std::to_string(position.seq));
      retry_later();
    }
    if (unsettled_ == 0 && std::exchange(connect_when_settled_, false)) connect();
  });
}

void follower_link::receive_snapshot_chunk() {
  if (!proven_ || options_.snapshot_file.empty()) throw bad_message("an unexpected snapshot");
  if (!snapshot_out_.is_open()) {
    snapshot_out_.open(options_.snapshot_file, std::ios::binary | std::ios::trunc);
    snapshot_bytes_ = 0;
    log("replication: receiving a snapshot of the leader's store");
  }
  if (!snapshot_out_.write(payload_.data(), static_cast<std::streamsize>(payload_.size())))
    throw std::runtime_error("cannot write " + options_.snapshot_file);
  snapshot_bytes_ += payload_.size();
}

void follower_link::finish_snapshot() {
  snapshot_end end = parse_snapshot_end(payload_);
  if (!snapshot_out_.is_open() || end.size != snapshot_bytes_)
    throw bad_message("the snapshot ended after " + std::to_string(snapshot_bytes_) + " of " +
                      std::to_string(end.size) + " bytes");
  snapshot_out_.close();
  if (!snapshot_out_) throw std::runtime_error("cannot write " + options_.snapshot_file);
  log("replication: received a snapshot at batch " + std::to_string(end.position.seq) + " (" +
      std::to_string(end.size) + " bytes); installing it");
  installing_ = true;
  drop("installing a snapshot");
  options_.install_snapshot(end.position);
}

void follower_link::send(std::string frame) {
  outgoing_ += frame;
  flush();
}

void follower_link::flush() {
  if (!link_ || !proven_ || !sending_.empty() || outgoing_.empty()) return;
  sending_.swap(outgoing_);
  link_stream* link = link_.get();
  asio::async_write(*link, asio::buffer(sending_), [this, alive = alive_, link](boost::system::error_code ec, std::size_t) {
    if (!*alive) return;
    sending_.clear();
    if (link != link_.get()) return;
    if (ec) return drop(ec.message()), retry_later();
    flush();
  });
}

void follower_link::log(const std::string& text) {
  if (options_.log) options_.log(text);
}

void follower_link::drop(const std::string& why) {
  if (snapshot_out_.is_open()) {  // a partial snapshot is worth nothing
    snapshot_out_.close();
    std::remove(options_.snapshot_file.c_str());
  }
  if (!link_) return;
  if (proven_ && refused_.empty() && !installing_) log("replication: lost the leader at " + host_ + ":" + std::to_string(port_) + ": " + why);
  link_->close();
  link_.reset();
  outgoing_.clear();
}

void follower_link::retry_later() {
  retry_timer_.expires_after(retry_interval);
  retry_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive && !link_ && !installing_) connect();
  });
}

}  // namespace roost::replication
