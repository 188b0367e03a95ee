// Users, vhosts and permissions on the broker: restoring them from the
// store, creating what a new data dir starts with, and every change, each
// applied in memory and written to the durable store in one submission.
#include <algorithm>

#include "broker/common/log.hpp"
#include "broker/common/name_pattern.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/connection.hpp"

namespace roost {

namespace {

std::vector<std::string> split_tags(std::string_view text) {
  std::vector<std::string> tags;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view tag = text.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (!tag.empty()) tags.emplace_back(tag);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return tags;
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& t : tags) out += (out.empty() ? "" : ",") + t;
  return out;
}

storage::user_record to_record(const user_account& u) {
  return {u.name,
          u.hash.base64(),
          std::string(hashing_algorithm_name(u.hash.algorithm)),
          join_tags(u.tags),
          u.limits.max_connections,
          u.limits.max_channels};
}

storage::vhost_record to_record(const std::string& name, const vhost_settings& s) {
  return {name, s.description, join_tags(s.tags), s.default_queue_type, s.limits.max_connections, s.limits.max_queues};
}

// A stored user whose hash cannot be read keeps no password: it exists, and
// no password logs it in.
user_account from_record(const storage::user_record& r) {
  hashing_algorithm algorithm = parse_hashing_algorithm(r.hashing_algorithm).value_or(hashing_algorithm::sha256);
  auto hash = password_hash::from_base64(algorithm, r.password_hash);
  if (!hash) log::warning("user '" + r.name + "': unreadable password hash; logins by password will fail");
  return user_account{r.name, hash.value_or(password_hash{algorithm, {}}), split_tags(r.tags),
                      user_limits{r.max_connections, r.max_channels}};
}

vhost_settings from_record(const storage::vhost_record& r) {
  return vhost_settings{r.description, split_tags(r.tags), r.default_queue_type,
                        vhost_limits{r.max_connections, r.max_queues}};
}

}  // namespace

void broker::persist(storage::operation op) {
  if (storage_.durable != nullptr) storage_.durable->submit({std::move(op)}, {});
}

vhost& broker::add_vhost(const std::string& name) {
  auto [it, added] = vhosts_.try_emplace(name, nullptr);
  if (added) it->second = std::make_unique<vhost>(name, queue_services_);
  return *it->second;
}

void broker::restore_access(const storage::recovered_state& state) {
  if (state.vhosts.empty()) {
    create_defaults();
    return;
  }
  // The store is the truth: forget what the constructor set up.
  vhosts_.clear();
  access_ = access_control(cfg_.loopback_users);
  for (const storage::vhost_record& r : state.vhosts) add_vhost(r.name).set_settings(from_record(r));
  for (const storage::user_record& r : state.users) access_.put_user(from_record(r));
  // An expression that no longer compiles (it cannot have been stored by
  // this roost) grants nothing rather than stopping the broker.
  auto compiled = [](const std::string& what, auto make) {
    try {
      make();
    } catch (const pattern_error& e) {
      log::warning("ignoring stored " + what + ": " + e.what());
    }
  };
  for (const storage::permission_record& p : state.permissions)
    compiled("permissions of '" + p.user + "' in vhost '" + p.vhost + "'",
             [&] { access_.set_permissions(p.user, p.vhost, permission_set(p.configure, p.write, p.read)); });
  for (const storage::topic_permission_record& p : state.topic_permissions)
    compiled("topic permissions of '" + p.user + "' in vhost '" + p.vhost + "'",
             [&] { access_.set_topic_permissions(p.user, p.vhost, p.exchange, p.write, p.read); });
}

void broker::create_defaults() {
  persist(storage::put_vhost{to_record("/", find_vhost("/")->settings())});
  const user_account* first = access_.find_user(cfg_.default_user);
  persist(storage::put_user{to_record(*first)});
  persist(storage::put_permission{{cfg_.default_user, "/", ".*", ".*", ".*"}});
}

void broker::put_user(user_account u) {
  persist(storage::put_user{to_record(u)});
  access_.put_user(std::move(u));
}

void broker::delete_user(std::string_view name) {
  std::string user(name);
  close_connections([&](const connection& c) { return c.user() == user; }, "user '" + user + "' is deleted");
  access_.remove_user(user);
  persist(storage::delete_user{user});
}

void broker::set_permissions(const std::string& user, const std::string& vhost, const std::string& configure,
                             const std::string& write, const std::string& read) {
  access_.set_permissions(user, vhost, permission_set(configure, write, read));
  persist(storage::put_permission{{user, vhost, configure, write, read}});
}

void broker::clear_permissions(const std::string& user, const std::string& vhost) {
  access_.clear_permissions(user, vhost);
  persist(storage::delete_permission{user, vhost});
}

void broker::set_topic_permissions(const std::string& user, const std::string& vhost, const std::string& exchange,
                                   const std::string& write, const std::string& read) {
  access_.set_topic_permissions(user, vhost, exchange, write, read);
  persist(storage::put_topic_permission{{user, vhost, exchange, write, read}});
}

void broker::clear_topic_permissions(const std::string& user, const std::string& vhost,
                                     const std::string& exchange) {
  std::vector<std::string> exchanges;
  auto it = access_.all_topic_permissions().find(std::pair<std::string_view, std::string_view>(user, vhost));
  if (it != access_.all_topic_permissions().end())
    for (const auto& [x, rules] : it->second)
      if (exchange.empty() || x == exchange) exchanges.push_back(x);
  access_.clear_topic_permissions(user, vhost, exchange);
  for (const std::string& x : exchanges) persist(storage::delete_topic_permission{user, vhost, x});
}

vhost& broker::put_vhost(const std::string& name, vhost_settings settings) {
  persist(storage::put_vhost{to_record(name, settings)});
  vhost& v = add_vhost(name);
  v.set_settings(std::move(settings));
  return v;
}

void broker::delete_vhost(std::string_view name) {
  auto it = vhosts_.find(name);
  if (it == vhosts_.end()) return;
  vhost* doomed = it->second.get();
  std::string text = "vhost '" + std::string(name) + "' is deleted";
  close_connections([&](const connection& c) { return c.has_vhost() && &c.vh() == doomed; }, text);
  // Everything durable goes in one operation; a transient queue's paged-out
  // messages are in the scratch store, which that operation does not reach.
  for (const auto& [queue_name, q] : doomed->queues())
    if (!q->persisted()) q->erase_from_store();
  persist(storage::delete_vhost{std::string(name)});
  access_.forget_vhost(name);
  vhosts_.erase(it);
}

template <class predicate>
void broker::close_connections(predicate which, const std::string& text) {
  std::vector<connection*> doomed;
  for (const auto& [id, c] : connections_)
    if (which(*c)) doomed.push_back(c);
  for (connection* c : doomed) c->force_close(text);
}

}  // namespace roost
