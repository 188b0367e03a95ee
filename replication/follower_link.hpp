// A follower's side of replication: connects to the leader's replication
// port, proves it knows the cluster secret, says where its store is, and
// applies each batch the leader ships through the store's own submit (one
// transaction, the batch's position committed with it), acknowledging
// each once committed. Lost connections are retried; a new leader is
// followed as soon as it is known.
//
// Runs on the io_context it is given; the store's completions must be
// posted there too.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "replication/batch_log.hpp"
#include "replication/link_messages.hpp"
#include "storage/store.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace roost::replication {

class link_stream;

struct follower_link_options {
  std::string node_id;
  std::string secret;
  // A line for the log (the leader lost, a refusal).
  std::function<void(const std::string& text)> log;
  // Where a snapshot from the leader is written (beside the store, so that
  // it can be renamed over it).
  std::string snapshot_file;
  // A whole snapshot is in snapshot_file: the owner replaces the store
  // with it and follows again from `position` (not from within this call:
  // it destroys this link).
  std::function<void(storage::batch_position position)> install_snapshot;
  // --replication-tls: the client context the leader's certificate is
  // verified with (net::make_client_context); null: plain TCP.
  boost::asio::ssl::context* tls = nullptr;
};

class follower_link {
 public:
  // store: recovered, and open for as long as this link lives. The batches
  // received are kept in `retained` (see batch_log.hpp).
  follower_link(boost::asio::io_context& io, follower_link_options options, storage::store& store,
                storage::batch_position position, batch_log retained);
  ~follower_link();

  // Follows the leader at host:port (again, if it changed).
  void follow(std::string host, std::uint16_t port);
  // The last batch the store committed.
  storage::batch_position position() const { return position_; }
  // Why the leader last refused this follower; empty while it is accepted.
  const std::string& refused() const { return refused_; }
  // Elected: the batches received, for the leader this node becomes.
  batch_log take_retained() { return std::move(retained_); }

 private:
  void connect();
  void start_tls();
  void read_frame();
  void handle(message_type type);
  void apply(std::shared_ptr<const std::string> encoded);
  void send(std::string frame);
  void flush();
  void drop(const std::string& why);
  void retry_later();
  void receive_snapshot_chunk();
  void finish_snapshot();
  void log(const std::string& text);

  boost::asio::io_context& io_;
  follower_link_options options_;
  storage::store& store_;
  storage::batch_position position_;  // committed
  batch_log retained_;
  std::uint64_t received_seq_ = 0;    // handed to the store
  std::string host_;
  std::uint16_t port_ = 0;
  std::unique_ptr<link_stream> link_;
  boost::asio::steady_timer retry_timer_;
  std::array<char, frame_header_size> header_{};
  std::string payload_;
  std::string outgoing_;
  std::string sending_;
  bool proven_ = false;
  std::ofstream snapshot_out_;
  std::uint64_t snapshot_bytes_ = 0;
  bool installing_ = false;  // a snapshot is complete: stay off the leader
  std::size_t unsettled_ = 0;  // batches submitted to the store, not yet committed
  bool connect_when_settled_ = false;
  std::string refused_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace roost::replication
