// The broker's users and who may do what where: accounts (password hash,
// tags, limits), per-vhost permissions and topic permissions, and the
// decisions made from them (login, vhost access, resource access).
//
// Holds no vhosts: a vhost's permissions are keyed by its name, and the
// broker forgets them when it deletes the vhost. Persistence is the
// broker's (broker/model/broker_access.cpp); this object is the in-memory
// truth it keeps in step with the store.
//
// version() changes with every change to users or permissions: a channel
// caches its last positive answers against it, so a revoked permission
// takes effect at the next operation. Broker thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/access/password_hash.hpp"
#include "broker/access/permissions.hpp"

namespace roost {

// Absent: no limit. RabbitMQ stores a negative number for "no limit" too.
struct user_limits {
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> max_channels;
};

struct user_account {
  std::string name;
  password_hash hash;
  std::vector<std::string> tags;
  user_limits limits;

  bool has_tag(std::string_view tag) const;
};

class access_control {
 public:
  using user_vhost = std::pair<std::string, std::string>;
  // Orders (user, vhost) keys; also finds them by a pair of string_views.
  struct by_user_vhost {
    using is_transparent = void;
    template <class a, class b>
    bool operator()(const a& x, const b& y) const {
      return std::pair<std::string_view, std::string_view>(x.first, x.second) <
             std::pair<std::string_view, std::string_view>(y.first, y.second);
    }
  };
  using topic_map = std::map<user_vhost, std::map<std::string, topic_rules, std::less<>>, by_user_vhost>;

  explicit access_control(std::vector<std::string> loopback_users = {"guest"})
      : loopback_users_(std::move(loopback_users)) {}

  const user_account* find_user(std::string_view name) const;
  const std::map<std::string, user_account, std::less<>>& users() const { return users_; }
  // The account, when the password is right (and not blank) and this peer may use it
  // (loopback_users: those may only log in from loopback). Nothing
  // otherwise, without saying which check failed.
  const user_account* authenticate(std::string_view user, std::string_view password, bool from_loopback) const;
  // The user exists and may log in from this peer (SASL EXTERNAL: no password).
  bool may_log_in_from(std::string_view user, bool from_loopback) const;

  // Null: the user has no permissions in the vhost (and may not open it).
  const permission_set* permissions(std::string_view user, std::string_view vhost) const;
  const std::map<user_vhost, permission_set, by_user_vhost>& all_permissions() const { return permissions_; }
  bool allows(std::string_view user, std::string_view vhost, access a, std::string_view resource) const;
  // The user's topic permissions on this exchange; null when it has none
  // there (then every routing key is allowed).
  const topic_rules* topic_rules_for(std::string_view user, std::string_view vhost, std::string_view exchange) const;
  // True unless the user has topic permissions on this exchange that the routing key does not match.
  bool topic_allows(std::string_view user, std::string_view vhost, std::string_view exchange, access a,
                    std::string_view routing_key) const;
  const topic_map& all_topic_permissions() const { return topic_permissions_; }

  // Changes. Expressions are checked by the caller (check_expression);
  // an invalid one throws pattern_error and changes nothing.
  void put_user(user_account u);
  // Also drops the user's permissions and topic permissions.
  void remove_user(std::string_view name);
  void set_permissions(const std::string& user, const std::string& vhost, permission_set p);
  void clear_permissions(std::string_view user, std::string_view vhost);
  void set_topic_permissions(const std::string& user, const std::string& vhost, const std::string& exchange,
                             std::string write, std::string read);
  // An empty exchange clears the user's topic permissions on every exchange of the vhost.
  void clear_topic_permissions(std::string_view user, std::string_view vhost, std::string_view exchange);
  // The vhost is gone: drop every permission in it.
  void forget_vhost(std::string_view vhost);

  std::uint64_t version() const { return version_; }

 private:
  std::vector<std::string> loopback_users_;
  std::map<std::string, user_account, std::less<>> users_;
  std::map<user_vhost, permission_set, by_user_vhost> permissions_;
  topic_map topic_permissions_;
  std::uint64_t version_ = 1;
};

}  // namespace roost
