#include "broker/broker.hpp"

#include <algorithm>

#include "broker/log.hpp"

namespace roost {

broker::broker(config cfg, storage_context storage) : cfg_(std::move(cfg)), storage_(storage) {
  vhosts_.emplace("/", std::make_unique<vhost>("/", &storage_));
  users_.emplace("guest", user_account{"guest", true});
}

broker::~broker() = default;

void broker::restore(const storage::recovered_state& state) {
  storage_.next_queue_id = std::max(storage_.next_queue_id, state.max_queue_id + 1);
  storage_.next_message_id = std::max(storage_.next_message_id, state.max_message_id + 1);
  auto in_vhost = [this](const std::string& name) {
    vhost* v = find_vhost(name);
    if (v == nullptr) log::warning("skipping stored definition in unknown vhost '" + name + "'");
    return v;
  };
  for (const auto& x : state.exchanges)
    if (vhost* v = in_vhost(x.vhost)) v->restore_exchange(x);
  for (const auto& q : state.queues)
    if (vhost* v = in_vhost(q.queue.vhost)) v->restore_queue(q);
  for (const auto& b : state.bindings)
    if (vhost* v = in_vhost(b.vhost)) v->restore_binding(b);
}

bool broker::store_alarm() {
  if (storage_.durable == nullptr) return false;
  std::size_t backlog = storage_.durable->backlog();
  if (backlog > cfg_.store_backlog_high) store_alarm_ = true;
  else if (backlog < cfg_.store_backlog_high / 2) store_alarm_ = false;
  return store_alarm_;
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

bool broker::authenticate(std::string_view user, std::string_view password, bool from_loopback) const {
  auto it = users_.find(user);
  if (it == users_.end() || it->second.password != password) return false;
  return from_loopback || !it->second.loopback_only;
}

std::uint64_t broker::register_connection(connection* c) {
  std::uint64_t id = next_connection_id_++;
  connections_.emplace(id, c);
  return id;
}

void broker::unregister_connection(std::uint64_t id) { connections_.erase(id); }

}  // namespace roost
