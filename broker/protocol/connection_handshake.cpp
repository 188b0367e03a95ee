// Connection-class methods: start / start-ok (PLAIN, AMQPLAIN, and EXTERNAL
// on TLS connections with a verified client certificate), tune / tune-ok
// with RabbitMQ's negotiation rules, open, close, close-ok.
#include <algorithm>

#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"

namespace roost {

namespace {

[[noreturn]] void command_invalid(std::string_view what) {
  throw connection_error(amqp::connection_reply::command_invalid, what);
}

amqp::field_table server_properties() {
  amqp::field_table capabilities;
  for (const char* name : {"publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
                           "connection.blocked", "authentication_failure_close", "per_consumer_qos",
                           "direct_reply_to"})
    capabilities.set(name, true);
  amqp::field_table props;
  props.set("product", "Roost");
  props.set("version", ROOST_VERSION);
  props.set("platform", "C++20 / Boost.Asio");
  props.set("information", "An AMQP 0-9-1 broker");
  props.set("capabilities", std::move(capabilities));
  props.set("cluster_name", "roost");
  return props;
}

struct credentials {
  std::string user;
  std::string password;
};

// PLAIN: "\0user\0password" (an authorization identity before the first NUL is ignored).
bool parse_plain(std::string_view response, credentials& out) {
  auto first = response.find('\0');
  if (first == std::string_view::npos) return false;
  auto second = response.find('\0', first + 1);
  if (second == std::string_view::npos) return false;
  out.user = response.substr(first + 1, second - first - 1);
  out.password = response.substr(second + 1);
  return true;
}

// AMQPLAIN: a field table without its length prefix, holding LOGIN and PASSWORD.
bool parse_amqplain(std::string_view response, credentials& out) {
  std::string framed;
  amqp::wire_writer(framed).longstr(response);  // give the table back its length prefix
  amqp::field_table t = amqp::decode_table(framed);
  auto* login = t.find("LOGIN");
  auto* password = t.find("PASSWORD");
  if (!login || !password || !login->as_string() || !password->as_string()) return false;
  out.user = *login->as_string();
  out.password = *password->as_string();
  return true;
}

// RabbitMQ: a value the client lowers is taken; 0 from the client when the
// server has a limit, or anything above the limit, is refused.
std::uint32_t negotiate(std::string_view what, std::uint32_t client, std::uint32_t server, std::uint32_t minimum) {
  if (client != 0 && client < minimum)
    throw connection_error(amqp::connection_reply::not_allowed,
                           std::string(what) + "=" + std::to_string(client) + " < " + std::to_string(minimum) +
                               " min size");
  if (server != 0 && (client == 0 || client > server))
    throw connection_error(amqp::connection_reply::not_allowed,
                           "negotiated " + std::string(what) + " = " + std::to_string(client) +
                               " is higher than the maximum allowed value (" + std::to_string(server) + ")");
  return client;
}

}  // namespace

void connection::secured_by_tls(std::string client_name) {
  over_tls_ = true;
  certificate_user_ = std::move(client_name);
}

void connection::send_start() {
  amqp::connection_start start;
  start.server_properties = server_properties();
  // RabbitMQ's rabbitmq_auth_mechanism_ssl offers EXTERNAL only to a TLS
  // client that presented a certificate.
  start.mechanisms.value = certificate_user_.empty() ? "PLAIN AMQPLAIN" : "PLAIN AMQPLAIN EXTERNAL";
  start.locales.value = "en_US";
  send(0, start);
}

void connection::expect_state(state s) {
  if (state_ == s) return;
  // RabbitMQ names its own state. Before tune-ok, fail_connection just
  // closes the socket, as RabbitMQ does, so the text matters only once
  // connection.open is due ("opening") or done ("running").
  throw connection_error(amqp::connection_reply::channel_error,
                         std::string("unexpected method in connection state ") +
                             (state_ == state::open ? "running" : "opening"));
}

void connection::on(const amqp::connection_start_ok& m) {
  expect_state(state::awaiting_start_ok);
  if (auto* caps = m.client_properties.find("capabilities")) {
    if (auto* table = caps->get_if<amqp::field_table>()) {
      auto flag = [table](std::string_view name) {
        auto* v = table->find(name);
        return v && v->get_if<bool>() && *v->get_if<bool>();
      };
      cancel_notify_ = flag("consumer_cancel_notify");
      auth_failure_close_ = flag("authentication_failure_close");
      blocked_capability_ = flag("connection.blocked");
    }
  }
  const user_account* account = authenticate(m);
  if (account == nullptr) {
    // RabbitMQ's log line; the password is never logged.
    log::warning("connection " + peer_ + " refused: " + m.mechanism + " login refused: user '" + user_ +
                 "' - invalid credentials");
    user_.clear();
    if (!auth_failure_close_) {
      state_ = state::closed;  // RabbitMQ just drops clients that did not ask for a reason
      events_.close_after_flush();
      return;
    }
    send_close(static_cast<std::uint16_t>(amqp::connection_reply::access_refused),
               "ACCESS_REFUSED - Login was refused using authentication mechanism " + m.mechanism +
                   ". For details see the broker logfile.",
               0);
    return;
  }
  impersonator_ = account->has_tag("impersonator");
  state_ = state::awaiting_tune_ok;
  send(0, amqp::connection_tune{channel_max_, frame_max_, broker_.cfg().heartbeat_seconds});
}

const user_account* connection::authenticate(const amqp::connection_start_ok& m) {
  if (m.mechanism == "EXTERNAL") {
    // RabbitMQ's text for a mechanism it knows but did not offer here.
    if (certificate_user_.empty()) command_invalid("invalid authentication mechanism 'EXTERNAL'");
    // The certificate is the credential; the response (pika sends none) is not read.
    user_ = certificate_user_;
    return broker_.access().may_log_in_from(user_, peer_is_loopback_) ? broker_.access().find_user(user_) : nullptr;
  }
  credentials cred;
  bool parsed = false;
  if (m.mechanism == "PLAIN") parsed = parse_plain(m.response.value, cred);
  else if (m.mechanism == "AMQPLAIN") parsed = parse_amqplain(m.response.value, cred);
  else command_invalid("unknown authentication mechanism '" + m.mechanism + "'");
  if (!parsed) command_invalid("malformed " + m.mechanism + " response");
  user_ = cred.user;
  return broker_.access().authenticate(cred.user, cred.password, peer_is_loopback_);
}

void connection::on(const amqp::connection_tune_ok& m) {
  expect_state(state::awaiting_tune_ok);
  frame_max_ = negotiate("frame_max", m.frame_max, frame_max_, amqp::frame_min_size);
  channel_max_ = static_cast<std::uint16_t>(negotiate("channel_max", m.channel_max, channel_max_, 1));
  heartbeat_ = m.heartbeat;
  state_ = state::awaiting_open;
}

void connection::on(const amqp::connection_open& m) {
  expect_state(state::awaiting_open);
  vhost* v = broker_.find_vhost(m.virtual_host);
  if (v == nullptr)
    throw connection_error(amqp::connection_reply::not_allowed, "vhost " + m.virtual_host + " not found");
  check_vhost_access(*v);
  vhost_ = v;
  state_ = state::open;
  send(0, amqp::connection_open_ok{});
  log::info("connection " + peer_ + " opened: user '" + user_ + "', vhost '" + m.virtual_host + "'");
}

void connection::on(const amqp::connection_update_secret& m) {
  expect_state(state::open);
  // A client refreshing its credentials proves it still holds them: the
  // new secret must be the user's password now. RabbitMQ 3.10's internal
  // user database skips this check (only backends whose state can expire,
  // such as OAuth 2, look at the secret) and answers ok to any secret;
  // Roost checks it and refuses as RabbitMQ refuses for those backends.
  if (broker_.access().authenticate(user_, m.new_secret.value, peer_is_loopback_) == nullptr) {
    log::warning("connection " + peer_ + ": secret update was refused for user '" + user_ + "'");
    throw connection_error(amqp::connection_reply::not_allowed, "New secret was refused by one of the backends");
  }
  log::info("connection " + peer_ + ": user '" + user_ + "' updated secret, reason: " + m.reason);
  send(0, amqp::connection_update_secret_ok{});
}

void connection::on(const amqp::connection_close& m) {
  log::info("connection " + peer_ + " closed by client: " + std::to_string(m.reply_code) + " " + m.reply_text);
  release_all();
  send(0, amqp::connection_close_ok{});
  state_ = state::closed;
  events_.close_after_flush();
}

void connection::on(const amqp::connection_close_ok&) {
  // Only meaningful while closing, which handle_frame deals with.
  command_invalid("connection.close-ok without connection.close");
}

}  // namespace roost
