// The leader's side of replication: a listener for followers, the recent
// batches it retains for them, and the publisher confirms it holds until
// every in-sync replica has the batch (docs/architecture.md, "Replication").
//
//   store's writer ─► add(batch) ─► retained ─► each follower's session
//   follower's ack ─► in_sync_replicas ─► the batch's completions run
//
// Followers also pass their clients' connections on here (a forward, then
// the client's bytes; see client_proxy.hpp), which app/ serves.
//
// A follower proves it knows the cluster secret (link_messages.hpp), says
// where its store is, and gets the batches after that from the retained
// ones; one the leader cannot serve so (history.hpp: too far behind, or
// diverged) gets a snapshot of the whole store instead, taken on a worker
// thread (storage/snapshot.hpp), and then comes back for the tail. Each session keeps at most a few MiB in flight: a slow
// follower slows only itself, and one that falls behind what is retained
// is dropped (it lags, leaves the list, and must rejoin).
//
// Runs on the io_context it is given; add() is called there too.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "replication/batch_log.hpp"
#include "replication/history.hpp"
#include "replication/in_sync_replicas.hpp"
#include "replication/link_messages.hpp"
#include "storage/snapshot.hpp"
#include "storage/sqlite_store.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace roost::replication {

struct leader_link_options {
  std::string node_id;
  std::string secret;
  std::chrono::milliseconds lag_timeout{2000};
  std::string store_file;    // the leader's roost.db, copied for snapshots
  std::string snapshot_dir;  // where the copies are written (and removed once sent)
  // --replication-tls: followers connect through TLS with this server
  // context (the node's certificate; the secret, not a client certificate,
  // proves a follower). Null: plain TCP. Forwarded clients come in plain
  // either way (their bytes are the client's own: TLS already, or plain
  // on the client's network as well).
  boost::asio::ssl::context* tls = nullptr;
};

struct leader_link_events {
  // Writes the in-sync replica list (this leader among the members) to
  // etcd, conditioned on this leadership; done(true) once it is there.
  std::function<void(const std::vector<std::string>& members, std::function<void(bool written)> done)> write_isr;
  // A line for the log (list changes, followers joining and leaving).
  std::function<void(const std::string& text)> log;
  // A client connection a follower passed on (client_proxy.hpp), proven:
  // its next bytes are the client's, and app/ serves it as if it had
  // accepted it itself.
  std::function<void(boost::asio::ip::tcp::socket client, const forward& from)> forwarded;
};

class leader_link {
 public:
  // acceptor: listening (every node binds it at start, to register its
  // port). retained: the batches this node received as a follower, which
  // it serves if they end where its history does.
  leader_link(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor, leader_link_options options,
              leader_link_events events, leader_history history, batch_log retained);
  ~leader_link();

  // Writes the first list (this node alone), starts reviewing it and
  // accepting followers. Nothing is confirmed before that list is in etcd.
  void start();
  // A batch the store committed: retained for followers, its completions
  // held until every member has it.
  void add(storage::shipped_batch batch);

  const in_sync_replicas& replicas() const { return isr_; }

 private:
  struct session;
  struct snapshot_file;
  struct held {
    std::uint64_t seq;
    std::vector<storage::completion> done;
  };

  void accept();
  void arrive(const std::shared_ptr<session>& s);
  void start_tls(const std::shared_ptr<session>& s);
  void challenge(const std::shared_ptr<session>& s);
  void welcome(const std::shared_ptr<session>& s);
  void hand_over(const std::shared_ptr<session>& s, const forward& f);
  void pump(const std::shared_ptr<session>& s);
  void acked(const std::shared_ptr<session>& s, std::uint64_t seq);
  void closed(const std::shared_ptr<session>& s, const std::string& why);
  void send_snapshot(const std::shared_ptr<session>& s);
  void snapshot_ready(const storage::snapshot_taken& taken, const std::string& file);
  void release();
  void review();
  void review_periodically();
  void write_list(std::vector<std::string> members, std::string reason);
  void log(const std::string& text);

  boost::asio::io_context& io_;
  leader_link_options options_;
  leader_link_events events_;
  leader_history history_;
  in_sync_replicas isr_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer review_timer_;
  batch_log retained_;
  std::deque<held> held_;
  std::map<std::string, std::shared_ptr<session>> sessions_;  // proven followers, by node id
  bool writing_list_ = false;
  std::vector<std::shared_ptr<session>> awaiting_snapshot_;
  std::thread snapshot_worker_;
  std::uint64_t snapshots_taken_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace roost::replication
