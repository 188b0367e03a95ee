// The broker's shared state on the broker thread: virtual hosts, users and
// open connections. Connections and the admin API reach everything through
// this object; nothing here is global, so several could coexist in a test.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/access/access_control.hpp"
#include "broker/model/config.hpp"
#include "broker/model/message_stats.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/repair/redrive.hpp"
#include "broker/model/vhost.hpp"
#include "broker/reply_to/direct_reply_to.hpp"

namespace boost::asio {
class io_context;
}

namespace roost {

class connection;
class deadline_scheduler;

// A data dir holds a record the broker cannot read (broker::restore).
class damaged_store : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class broker {
 public:
  // The stores in `storage` (either may be null) and the timers (null in
  // unit tests: expiry only when a queue is touched) must outlive the broker.
  broker(config cfg, storage_context storage = {}, deadline_scheduler* timers = nullptr);
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;
  ~broker();

  const config& cfg() const { return cfg_; }
  storage_context& storage() { return storage_; }
  direct_reply_to& reply_to() { return reply_to_; }
  // The timers of the broker thread; null in unit tests.
  deadline_scheduler* timers() const { return queue_services_.timers; }
  // Dead-letter redrives, the latest per queue (broker/repair/redrive.hpp).
  redrive_registry& redrives() { return redrives_; }
  // Rebuilds users, vhosts, permissions and the durable exchanges, queues
  // and bindings from the store. A store that holds no vhost (a new data
  // dir) gets "/" and the first user (cfg().default_user, administrator with
  // every permission on "/") instead, written to it. Call once, after
  // attaching the store and before accepting connections. Throws
  // damaged_store when a record cannot be decoded (the data dir is left as
  // it is).
  void restore(const storage::recovered_state& state);
  // Starts the timers that release delayed messages (delayed_delivery.hpp)
  // on the broker thread's io_context. Call after restore().
  void start_timers(boost::asio::io_context& io);
  // True while some queue is reading paged-out messages back from a store.
  bool loading() const;
  // True while publishers must wait: the durable store's backlog is over
  // its high-water mark (until it drains below half of it), the disk is
  // nearly full (see check_disk), or memory is over its watermark (see
  // check_memory).
  bool publish_alarm();
  // RabbitMQ's connection.blocked reasons: a store that cannot keep up holds
  // messages in memory, so it is reported as memory.
  const char* alarm_reason() const { return disk_alarm_ ? "low on disk" : "low on memory"; }
  // Moves while messages flow or a store works through its backlog: how
  // housekeeping tells busy from quiet (an admin polling queue depths is quiet).
  std::uint64_t activity() const;
  // Compares the data dir's free space with --disk-free-limit; call
  // periodically. Returns the current free-space alarm.
  bool check_disk();
  // Compares the process's resident memory (measured by the caller) with
  // the memory high watermark; call periodically. Raised above the limit,
  // cleared below it, as RabbitMQ's vm_memory_monitor. Returns the alarm.
  bool check_memory(std::uint64_t resident_bytes);

  vhost* find_vhost(std::string_view name);
  const std::map<std::string, std::unique_ptr<vhost>, std::less<>>& vhosts() const { return vhosts_; }
  // Users and permissions. Changes go through the operations below, which
  // also write them to the store.
  const access_control& access() const { return access_; }
  // Message events across all vhosts (the admin API's overview and /metrics).
  message_stats& stats() { return stats_; }
  // The store, disk or memory alarm is on (without re-evaluating it, unlike publish_alarm()).
  bool store_alarm() const { return store_alarm_; }
  bool disk_alarm() const { return disk_alarm_; }
  bool memory_alarm() const { return memory_alarm_; }
  // What the alarms last measured, and their limits (the admin API's /api/nodes).
  std::uint64_t disk_free() const { return disk_free_; }
  std::uint64_t memory_used() const { return memory_used_; }
  std::uint64_t memory_limit() const { return memory_limit_; }

  // Access control changes, each written to the store (broker_access.cpp).
  // The caller has validated names and expressions (check_expression).
  void put_user(user_account u);
  // Closes the user's connections ("user 'x' is deleted") and drops its permissions.
  void delete_user(std::string_view name);
  void set_permissions(const std::string& user, const std::string& vhost, const std::string& configure,
                       const std::string& write, const std::string& read);
  void clear_permissions(const std::string& user, const std::string& vhost);
  void set_topic_permissions(const std::string& user, const std::string& vhost, const std::string& exchange,
                             const std::string& write, const std::string& read);
  // An empty exchange clears them on every exchange of the vhost.
  void clear_topic_permissions(const std::string& user, const std::string& vhost, const std::string& exchange);
  // Creates the vhost, or updates the settings of an existing one.
  vhost& put_vhost(const std::string& name, vhost_settings settings);
  // Closes its connections ("vhost 'x' is deleted"), then removes
  // everything in it, and its permissions, as one store operation.
  void delete_vhost(std::string_view name);

  // A cluster's leader confirms publishes only while its lease holds (app/
  // sets the gate from cluster/leadership.hpp); a single node has no gate.
  void set_confirm_gate(std::function<bool()> gate) { confirm_gate_ = std::move(gate); }
  bool may_confirm() const { return !confirm_gate_ || confirm_gate_(); }

  std::uint64_t register_connection(connection* c);
  void unregister_connection(std::uint64_t id);
  const std::unordered_map<std::uint64_t, connection*>& connections() const { return connections_; }

 private:
  void restore_delayed(const std::vector<storage::loaded_delayed>& delayed);
  void restore_access(const storage::recovered_state& state);
  // A new data dir: "/" and the first user, written to the store.
  void create_defaults();
  vhost& add_vhost(const std::string& name);
  // Sends connection.close 320 with this text to every connection `which` picks.
  template <class predicate>
  void close_connections(predicate which, const std::string& text);
  void persist(storage::operation op);

  config cfg_;
  storage_context storage_;
  // What every vhost's queues reach (points at storage_).
  queue_services queue_services_;
  direct_reply_to reply_to_;
  std::map<std::string, std::unique_ptr<vhost>, std::less<>> vhosts_;
  redrive_registry redrives_;
  access_control access_;
  std::unordered_map<std::uint64_t, connection*> connections_;
  std::uint64_t next_connection_id_ = 1;
  bool store_alarm_ = false;
  bool disk_alarm_ = false;
  bool memory_alarm_ = false;
  std::uint64_t disk_free_ = 0;
  std::uint64_t memory_used_ = 0;
  std::uint64_t memory_limit_;  // the watermark on this machine's RAM
  message_stats stats_;
  std::function<bool()> confirm_gate_;
};

}  // namespace roost
