#include "broker/broker.hpp"

namespace roost {

broker::broker(config cfg) : cfg_(std::move(cfg)) {
  vhosts_.emplace("/", std::make_unique<vhost>("/"));
  users_.emplace("guest", user_account{"guest", true});
}

broker::~broker() = default;

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
