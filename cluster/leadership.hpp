// Leadership through an etcd lease, as docs/architecture.md describes:
//
//   grant a lease (TTL) ─► register /roost/<cluster>/nodes/<id> under it
//   ─► every TTL/3: keep the lease alive, and while not leader try to
//      create /roost/<cluster>/leader under it (a transaction that
//      succeeds only if the key does not exist; its revision is the epoch)
//      if /roost/<cluster>/isr lists this node or does not exist yet (the
//      same transaction checks that the list did not change meanwhile)
//
// The lease is valid until the send time of the last renewal etcd
// accepted plus the TTL etcd granted: etcd's own clock starts later, so
// this node always believes it has lost the lease before etcd expires it.
// A leader whose lease runs out is deposed at that moment (a timer, not
// the next renewal attempt, which may hang until its own timeout); the
// owner steps down. A follower whose lease runs out just registers again.
//
// Runs on the io_context of its etcd_client; the events are called there.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cluster/etcd_client.hpp"

namespace roost::cluster {

struct leadership_options {
  std::string cluster;  // the key prefix is /roost/<cluster>/
  std::string node_id;
  // The value of this node's registration key and, while it leads, of the
  // leader key: how other nodes and tools reach it (JSON, see node_record.hpp).
  std::string registration;
  std::chrono::seconds lease_ttl{5};
};

struct leadership_events {
  std::function<void(std::int64_t epoch)> elected;
  // The leader key's value as another node wrote it; called when it changes.
  std::function<void(const std::string& leader)> following;
  // The lease ran out (or etcd says it is gone) while leading.
  std::function<void(const std::string& reason)> deposed;
  // Something the operator should see in the log (etcd unreachable, a lease lost).
  std::function<void(const std::string& text)> warning;
};

class leadership {
 public:
  leadership(etcd_client& etcd, leadership_options options, leadership_events events);
  ~leadership();

  void start();
  // Shutting down (SIGTERM): stop acting on the lease at once (a leader's
  // confirm gate closes here) and revoke it, so that another node is
  // elected now rather than when the lease runs out, and this node's
  // registration goes. `done` runs once etcd has answered or failed to.
  void resign(std::function<void()> done);

  bool leading() const { return epoch_ != 0; }
  // The leader key's create revision while leading, else 0.
  std::int64_t epoch() const { return epoch_; }
  // Until when this node may act on its lease (steady clock). A leader
  // confirms nothing past it.
  std::chrono::steady_clock::time_point lease_valid_until() const { return valid_until_; }
  const std::string& leader_key() const { return leader_key_; }
  const std::string& nodes_prefix() const { return nodes_prefix_; }
  const std::string& isr_key() const { return isr_key_; }
  // The granted TTL (etcd may raise what was asked for to its minimum).
  std::chrono::seconds lease_ttl() const { return granted_ttl_; }

 private:
  boost::asio::awaitable<void> run(std::shared_ptr<bool> alive);
  boost::asio::awaitable<void> revoke(std::int64_t lease);
  // One election attempt (or, when not eligible, a look at who leads).
  boost::asio::awaitable<void> campaign();
  // The in-sync replica list's mod revision (0: none written yet) if it
  // lets this node stand; null if it does not. Throws etcd::bad_answer.
  boost::asio::awaitable<std::optional<std::int64_t>> isr_admits_me();
  // Renews the lease; false once etcd says it is gone.
  boost::asio::awaitable<bool> renew();
  boost::asio::awaitable<void> pause(std::chrono::steady_clock::duration how_long);
  void won(std::int64_t epoch);
  void arm_deposal();
  void depose(const std::string& reason);
  void warn(const std::string& text);
  void etcd_failed(const std::string& text);
  void etcd_answered();
  // How often the lease is renewed and, while following, the election tried.
  std::chrono::milliseconds tick() const;

  etcd_client& etcd_;
  leadership_options options_;
  leadership_events events_;
  std::string leader_key_;
  std::string nodes_prefix_;
  std::string isr_key_;
  std::int64_t lease_ = 0;
  std::int64_t epoch_ = 0;
  bool deposed_ = false;  // once deposed, this object does nothing more
  std::string known_leader_;
  std::uint64_t failures_ = 0;  // etcd requests failed in a row
  std::chrono::seconds granted_ttl_{0};
  std::chrono::steady_clock::time_point valid_until_{};
  boost::asio::steady_timer deposal_;
  std::shared_ptr<bool> alive_;
};

}  // namespace roost::cluster
