// Logins and permission decisions: see access_control.hpp.
#include "broker/access/access_control.hpp"

#include <algorithm>

namespace roost {

namespace {

using key_view = std::pair<std::string_view, std::string_view>;

// Every entry keyed (user, vhost) for which `drop` holds.
template <class map, class predicate>
void erase_keys(map& m, predicate drop) {
  std::erase_if(m, [&](const auto& entry) { return drop(entry.first); });
}

}  // namespace

bool user_account::has_tag(std::string_view tag) const { return std::find(tags.begin(), tags.end(), tag) != tags.end(); }

const user_account* access_control::find_user(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

bool access_control::may_log_in_from(std::string_view user, bool from_loopback) const {
  if (find_user(user) == nullptr) return false;
  return from_loopback || std::find(loopback_users_.begin(), loopback_users_.end(), user) == loopback_users_.end();
}

const user_account* access_control::authenticate(std::string_view user, std::string_view password,
                                                 bool from_loopback) const {
  const user_account* u = find_user(user);
  // The digest is computed whether or not the user exists, so that the time
  // a refusal takes says nothing about which names are accounts.
  static const password_hash nobody = hash_password_with_salt("", "salt", hashing_algorithm::sha256);
  bool right = verify_password(u != nullptr ? u->hash : nobody, password);
  // A blank password never logs in, whatever the hash says (RabbitMQ's
  // internal backend refuses it too): a user created over the API with
  // "password": "" has a hash of the empty string.
  if (u == nullptr || !right || password.empty() || !may_log_in_from(user, from_loopback)) return nullptr;
  return u;
}

const permission_set* access_control::permissions(std::string_view user, std::string_view vhost) const {
  auto it = permissions_.find(key_view{user, vhost});
  return it == permissions_.end() ? nullptr : &it->second;
}

bool access_control::allows(std::string_view user, std::string_view vhost, access a, std::string_view resource) const {
  const permission_set* p = permissions(user, vhost);
  return p != nullptr && p->allows(a, resource);
}

const topic_rules* access_control::topic_rules_for(std::string_view user, std::string_view vhost,
                                                   std::string_view exchange) const {
  auto it = topic_permissions_.find(key_view{user, vhost});
  if (it == topic_permissions_.end()) return nullptr;
  auto rules = it->second.find(exchange);
  return rules == it->second.end() ? nullptr : &rules->second;
}

bool access_control::topic_allows(std::string_view user, std::string_view vhost, std::string_view exchange, access a,
                                  std::string_view routing_key) const {
  const topic_rules* rules = topic_rules_for(user, vhost, exchange);
  return rules == nullptr || rules->allows(a, routing_key);
}

void access_control::put_user(user_account u) {
  std::string name = u.name;
  users_.insert_or_assign(std::move(name), std::move(u));
  ++version_;
}

void access_control::remove_user(std::string_view name) {
  if (auto it = users_.find(name); it != users_.end()) users_.erase(it);
  erase_keys(permissions_, [&](const user_vhost& k) { return k.first == name; });
  erase_keys(topic_permissions_, [&](const user_vhost& k) { return k.first == name; });
  ++version_;
}

void access_control::set_permissions(const std::string& user, const std::string& vhost, permission_set p) {
  permissions_.insert_or_assign(user_vhost{user, vhost}, std::move(p));
  ++version_;
}

void access_control::clear_permissions(std::string_view user, std::string_view vhost) {
  auto it = permissions_.find(key_view{user, vhost});
  if (it != permissions_.end()) permissions_.erase(it);
  ++version_;
}

void access_control::set_topic_permissions(const std::string& user, const std::string& vhost,
                                           const std::string& exchange, std::string write, std::string read) {
  topic_rules rules(std::move(write), std::move(read), user, vhost);
  topic_permissions_[user_vhost{user, vhost}].insert_or_assign(exchange, std::move(rules));
  ++version_;
}

void access_control::clear_topic_permissions(std::string_view user, std::string_view vhost,
                                             std::string_view exchange) {
  auto it = topic_permissions_.find(key_view{user, vhost});
  if (it == topic_permissions_.end()) return;
  if (exchange.empty()) it->second.clear();
  else if (auto x = it->second.find(exchange); x != it->second.end()) it->second.erase(x);
  if (it->second.empty()) topic_permissions_.erase(it);
  ++version_;
}

void access_control::forget_vhost(std::string_view vhost) {
  erase_keys(permissions_, [&](const user_vhost& k) { return k.second == vhost; });
  erase_keys(topic_permissions_, [&](const user_vhost& k) { return k.second == vhost; });
  ++version_;
}

}  // namespace roost
