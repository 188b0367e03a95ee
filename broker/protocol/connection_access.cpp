// What a logged-in user may open: a vhost it has permissions in, within
// the vhost's and its own connection limits (checked at connection.open),
// and channels within its own channel limit (at channel.open). RabbitMQ's
// texts; a limit of 0 allows nothing, a negative one (or none) anything.
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

namespace {

bool reached(std::int64_t limit, std::size_t count) { return limit >= 0 && static_cast<std::int64_t>(count) >= limit; }

}  // namespace

void connection::check_vhost_access(const vhost& v) {
  std::size_t in_vhost = 0;
  std::size_t of_user = 0;
  for (const auto& [id, c] : broker_.connections()) {
    if (c == this || c->state_ != state::open) continue;
    if (c->vhost_ == &v) ++in_vhost;
    if (c->user_ == user_) ++of_user;
  }
  // RabbitMQ's order: the vhost's limit, the user's limit, then permissions.
  std::string refused = "access to vhost '" + v.name() + "' refused for user '" + user_ + "'";
  if (std::int64_t limit = v.settings().limits.max_connections.value_or(-1); reached(limit, in_vhost))
    throw connection_error(amqp::connection_reply::not_allowed,
                           refused + ": connection limit (" + std::to_string(limit) + ") is reached");
  const access_control& ac = broker_.access();
  const user_account* u = ac.find_user(user_);
  if (std::int64_t limit = u != nullptr ? u->limits.max_connections.value_or(-1) : -1; reached(limit, of_user))
    throw connection_error(amqp::connection_reply::not_allowed, "connection refused for user '" + user_ +
                                                                    "': user connection limit (" +
                                                                    std::to_string(limit) + ") is reached");
  if (ac.permissions(user_, v.name()) == nullptr) throw connection_error(amqp::connection_reply::not_allowed, refused);
}

bool connection::within_user_channel_limit() {
  const user_account* u = broker_.access().find_user(user_);
  std::int64_t limit = u != nullptr ? u->limits.max_channels.value_or(-1) : -1;
  if (limit < 0) return true;
  std::size_t open = 0;
  for (const auto& [id, c] : broker_.connections())
    if (c->user_ == user_) open += c->channels_.size();
  if (static_cast<std::int64_t>(open) < limit) return true;
  fail_connection(static_cast<std::uint16_t>(amqp::connection_reply::not_allowed),
                  "NOT_ALLOWED - number of channels opened for user '" + user_ +
                      "' has reached the maximum allowed user limit of (" + std::to_string(limit) + ")",
                  0);
  return false;
}

}  // namespace roost
