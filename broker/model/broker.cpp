#include "broker/model/broker.hpp"

#include <sys/statvfs.h>

#include <algorithm>

#include "amqp/wire.hpp"
#include "broker/common/log.hpp"
#include "broker/common/process_memory.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

broker::broker(config cfg, storage_context storage, deadline_scheduler* timers)
    : cfg_(std::move(cfg)),
      storage_(storage),
      queue_services_{&storage_, cfg_.queue_window, timers},
      access_(cfg_.loopback_users),
      memory_limit_(cfg_.memory_high_watermark.limit(physical_memory_bytes())) {
  // What a new data dir starts with; restore() replaces it with what a store holds.
  add_vhost("/").set_settings(vhost_settings{"Default virtual host", {}, "", {}});  // RabbitMQ's description
  access_.put_user(user_account{cfg_.default_user, hash_password(cfg_.default_pass), {"administrator"}, {}});
  access_.set_permissions(cfg_.default_user, "/", permission_set(".*", ".*", ".*"));
}

broker::~broker() = default;

void broker::restore(const storage::recovered_state& state) {
  restore_access(state);
  storage_.next_queue_id = std::max(storage_.next_queue_id, state.max_queue_id + 1);
  storage_.next_message_id = std::max(storage_.next_message_id, state.max_message_id + 1);
  auto in_vhost = [this](const std::string& name) {
    vhost* v = find_vhost(name);
    if (v == nullptr) log::warning("skipping stored definition in unknown vhost '" + name + "'");
    return v;
  };
  // Policies before the queues and exchanges, which pick theirs up as they are restored.
  for (const auto& p : state.policies) {
    vhost* v = in_vhost(p.vhost);
    if (v == nullptr) continue;
    try {
      v->restore_policy(policy_from_record(p));
    } catch (const policy_invalid& e) {
      log::warning("ignoring stored policy '" + p.name + "' in vhost '" + p.vhost + "': " + e.what());
    }
  }
  // Arguments are stored as AMQP field tables; one that does not decode,
  // or that a declare would refuse, means the file was damaged, and the
  // broker refuses to start on it rather than drop what it cannot read.
  std::string record;  // the one being restored, for that error
  try {
    for (const auto& x : state.exchanges) {
      record = "exchange '" + x.name + "' in vhost '" + x.vhost + "'";
      if (vhost* v = in_vhost(x.vhost)) v->restore_exchange(x);
    }
    for (const auto& q : state.queues) {
      record = "queue '" + q.queue.name + "' in vhost '" + q.queue.vhost + "'";
      if (vhost* v = in_vhost(q.queue.vhost)) v->restore_queue(q);
    }
    for (const auto& b : state.bindings) {
      record = "binding of '" + b.destination + "' to '" + b.source + "' in vhost '" + b.vhost + "'";
      if (vhost* v = in_vhost(b.vhost)) v->restore_binding(b);
    }
  } catch (const amqp::decode_error& e) {
    throw damaged_store("the stored " + record + " cannot be decoded (" + e.what() + ")");
  } catch (const channel_error& e) {
    // Decodes, but says what no declare could have (x-match "an\xed").
    throw damaged_store("the stored " + record + " is not valid (" + e.what() + ")");
  }
  restore_delayed(state.delayed);
}

// A delayed message's targets are queue store ids, unique across vhosts;
// its vhost is that of the queues it targets.
void broker::restore_delayed(const std::vector<storage::loaded_delayed>& delayed) {
  if (delayed.empty()) return;
  std::unordered_map<std::uint64_t, std::pair<vhost*, queue*>> by_store_id;
  for (const auto& [name, v] : vhosts_)
    for (const auto& [queue_name, q] : v->queues())
      if (q->persisted()) by_store_id.emplace(q->store_id(), std::pair{v.get(), q.get()});
  std::vector<queue*> targets;
  for (const storage::loaded_delayed& d : delayed) {
    targets.clear();
    vhost* owner = vhosts_.begin()->second.get();  // no target left: any vhost may release (and forget) it
    for (std::uint64_t id : d.record.queue_ids) {
      auto found = by_store_id.find(id);
      if (found == by_store_id.end()) continue;
      owner = found->second.first;
      targets.push_back(found->second.second);
    }
    owner->delays().restore(d, targets);
  }
}

void broker::start_timers(boost::asio::io_context& io) {
  for (const auto& [name, v] : vhosts_) v->delays().start(io);
}

bool broker::publish_alarm() {
  // Both stores count: a transient flood pages out to the scratch store, and
  // its unwritten operations hold message copies in memory just the same.
  std::size_t backlog = 0;
  for (storage::store* s : {storage_.durable, storage_.scratch})
    if (s != nullptr) backlog = std::max(backlog, s->backlog());
  if (backlog > cfg_.store_backlog_high) store_alarm_ = true;
  else if (backlog < cfg_.store_backlog_high / 2) store_alarm_ = false;
  return store_alarm_ || disk_alarm_ || memory_alarm_;
}

std::uint64_t broker::activity() const {
  std::uint64_t sum = 0;
  for (std::uint64_t n : stats_.totals) sum += n;
  for (storage::store* s : {storage_.durable, storage_.scratch})
    if (s != nullptr) sum += s->backlog();
  return sum;
}

bool broker::check_disk() {
  struct statvfs fs {};
  if (::statvfs(cfg_.data_dir.c_str(), &fs) != 0) return disk_alarm_;
  std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  bool alarm = cfg_.disk_free_limit != 0 && free_bytes < cfg_.disk_free_limit;
  if (alarm != disk_alarm_)
    log::warning(alarm ? "disk alarm: " + std::to_string(free_bytes) + " bytes free, below the limit of " +
                             std::to_string(cfg_.disk_free_limit) + "; publishers paused"
                       : "disk alarm cleared: " + std::to_string(free_bytes) + " bytes free");
  disk_alarm_ = alarm;
  disk_free_ = free_bytes;
  return alarm;
}

bool broker::check_memory(std::uint64_t resident_bytes) {
  memory_used_ = resident_bytes;
  bool alarm = resident_bytes > memory_limit_;
  if (alarm != memory_alarm_)
    log::warning((alarm ? "memory alarm: memory used " : "memory alarm cleared: memory used ") +
                 std::to_string(resident_bytes) + " bytes, allowed " + std::to_string(memory_limit_) +
                 (alarm ? "; publishers paused until it clears" : ""));
  memory_alarm_ = alarm;
  return alarm;
}

bool broker::loading() const {
  for (const auto& [name, v] : vhosts_)
    for (const auto& [queue_name, q] : v->queues())
      if (q->loading()) return true;
  return false;
}

vhost* broker::find_vhost(std::string_view name) {
  auto it = vhosts_.find(name);
  return it == vhosts_.end() ? nullptr : it->second.get();
}

std::uint64_t broker::register_connection(connection* c) {
  std::uint64_t id = next_connection_id_++;
  connections_.emplace(id, c);
  return id;
}

void broker::unregister_connection(std::uint64_t id) { connections_.erase(id); }

}  // namespace roost
