// Redrive: sending a queue's dead-lettered messages back where they died
// (the exchange and routing keys of each one's most recent x-death entry,
// its history kept), or all to one chosen queue or exchange. A run moves a
// page at a time through move_ready (one store submission per page), paced
// to max_rate messages a second, on the broker thread between other work;
// its progress is readable while it runs, and it can be cancelled. A
// message with nowhere to go (its exchange gone, or routing nowhere, or not
// writable by the caller) stays in the queue and is counted.
//
// A run finds its vhost and queue by name at every page: if either is
// deleted meanwhile, the run stops there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "broker/repair/move_messages.hpp"

namespace roost {

class broker;
class queue;

struct redrive_request {
  std::string reason;        // only messages whose most recent death had this reason; empty: any
  std::string origin_queue;  // only those that died in this queue; empty: any
  std::string to_queue;      // all to this queue instead of each to its origin...
  std::string to_exchange;   // ...or through this exchange, with to_routing_key
  std::string to_routing_key;
  bool chosen_target = false;  // to_queue or to_exchange applies
  std::uint64_t max = UINT64_MAX;
  std::uint64_t max_rate = 0;  // messages a second; 0: as fast as pages go
  // Whether the caller may publish to an exchange (the origin exchanges are
  // known only message by message).
  std::function<bool(const std::string& exchange)> may_write;
};

enum class redrive_state { running, finished, cancelled, stopped };
std::string_view state_name(redrive_state s);

struct redrive_progress {
  redrive_state state = redrive_state::running;
  move_counts counts;
  std::int64_t started_at_ms = 0;
  std::int64_t finished_at_ms = 0;  // 0 while running
};

class redrive_run : public std::enable_shared_from_this<redrive_run> {
 public:
  redrive_run(broker& b, std::string vhost, const queue& source, redrive_request request);
  void start();
  void cancel();
  const redrive_progress& progress() const { return progress_; }
  const redrive_request& request() const { return request_; }

 private:
  void step();
  void finish(redrive_state s);
  // The source queue, if it (the same one, not a namesake) still exists.
  queue* source() const;
  std::optional<move_destination> destination_of(const ready_view& m) const;

  broker& broker_;
  std::string vhost_;
  std::string queue_;
  std::uint32_t queue_id_;
  redrive_request request_;
  redrive_progress progress_;
  std::uint64_t from_position_ = 0;
};

// The latest run per queue, running or ended (its final counts stay visible).
class redrive_registry {
 public:
  // The queue's latest run; null if it never had one.
  std::shared_ptr<redrive_run> find(const std::string& vhost, const std::string& queue) const;
  // Starts a run; false if one is running on that queue.
  bool start(broker& b, const std::string& vhost, const queue& source, redrive_request request);

 private:
  std::map<std::pair<std::string, std::string>, std::shared_ptr<redrive_run>> runs_;
};

}  // namespace roost
