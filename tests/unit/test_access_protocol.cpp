// Access control on the wire without a socket: which refusal comes first
// when a method breaks two rules (RabbitMQ's order, as its channel and
// reader check them), the default exchange checked as amq.default, the
// connection.open limits, connection.update-secret, and SASL EXTERNAL on a
// TLS connection with a client certificate. The integration
// tests (tests/integration/test_access_control.*) check the same against
// RabbitMQ; these pin Roost's side down where the HTTP API is not needed.
#include <doctest/doctest.h>

#include "amqp/frame.hpp"
#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;
using namespace roost::test;

namespace {

// One client of a shared broker, logging in as anyone.
struct client {
  recorded_events events;
  connection c;
  std::uint16_t next_channel = 1;

  client(broker& b, int port) : c(b, events, "127.0.0.1:" + std::to_string(port), true) {}

  std::vector<decoded_frame> feed(const std::string& bytes) {
    c.consume(bytes);
    return drain(c);
  }

  // Header, start-ok (asking for authentication_failure_close), tune-ok and, unless vhost is
  // null, connection.open; returns everything the broker answered after connection.start.
  std::vector<decoded_frame> login(const std::string& user, const std::string& password, const char* vhost) {
    return login_with("PLAIN", std::string(1, '\0') + user + std::string(1, '\0') + password, vhost);
  }

  std::vector<decoded_frame> login_with(const std::string& mechanism, const std::string& response, const char* vhost) {
    feed(std::string(amqp::protocol_header));
    amqp::connection_start_ok start_ok;
    start_ok.mechanism = mechanism;
    start_ok.response.value = response;
    amqp::field_table caps;
    caps.set("authentication_failure_close", true);
    start_ok.client_properties.set("capabilities", caps);
    std::vector<decoded_frame> frames = feed(method_frame(0, start_ok));
    for (const std::string& next : {method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}),
                                    vhost != nullptr ? method_frame(0, amqp::connection_open{vhost, "", false})
                                                     : std::string()}) {
      auto more = feed(next);
      frames.insert(frames.end(), more.begin(), more.end());
    }
    return frames;
  }

  // Opens a fresh channel and sends m on it; returns its number and the answer.
  template <class M>
  std::pair<std::uint16_t, std::vector<decoded_frame>> on_new_channel(const M& m) {
    std::uint16_t n = next_channel++;
    feed(method_frame(n, amqp::channel_open{}));
    return {n, feed(method_frame(n, m))};
  }

  // A publish on a fresh channel (properties encoded by the codec).
  std::vector<decoded_frame> publish(const std::string& exchange, const std::string& key,
                                     const amqp::basic_properties& props = {}) {
    std::uint16_t n = next_channel++;
    feed(method_frame(n, amqp::channel_open{}));
    std::string raw_props;
    amqp::wire_writer w(raw_props);
    amqp::encode_properties(w, props);
    std::string bytes = method_frame(n, amqp::basic_publish{0, exchange, key, false, false});
    amqp::append_content_header(bytes, n, 1, raw_props);
    amqp::append_body_frames(bytes, n, "m", 131072);
    return feed(bytes);
  }
};

template <class Close>
void expect_close(const std::vector<decoded_frame>& frames, std::uint16_t code, const std::string& text,
                  std::uint16_t class_id, std::uint16_t method_id) {
  REQUIRE_FALSE(frames.empty());
  REQUIRE(frames.back().method_key() == Close::id.key());
  auto close = frames.back().method<Close>();
  CHECK(close.reply_code == code);
  CHECK(close.reply_text == text);
  CHECK(close.class_id == class_id);
  CHECK(close.method_id == method_id);
}

void expect_channel_close(const std::vector<decoded_frame>& frames, std::uint16_t code, const std::string& text,
                          std::uint16_t class_id, std::uint16_t method_id) {
  expect_close<amqp::channel_close>(frames, code, text, class_id, method_id);
}

void expect_connection_close(const std::vector<decoded_frame>& frames, std::uint16_t code, const std::string& text,
                             std::uint16_t class_id, std::uint16_t method_id) {
  expect_close<amqp::connection_close>(frames, code, text, class_id, method_id);
}

void expect_no_close(const std::vector<decoded_frame>& frames) {
  for (const decoded_frame& f : frames) {
    CHECK(f.method_key() != amqp::channel_close::id.key());
    CHECK(f.method_key() != amqp::connection_close::id.key());
  }
}

std::string refused(const std::string& kind, const std::string& name, const std::string& vhost = "/") {
  return "ACCESS_REFUSED - access to " + kind + " '" + name + "' in vhost '" + vhost + "' refused for user 'alice'";
}

// A broker with alice (password "pw") and, when asked, her permissions on "/".
struct world {
  broker b{config{}};
  int next_port = 1;

  explicit world(user_limits limits = {}) {
    b.put_user(user_account{"alice", hash_password("pw"), {}, limits});
  }

  void permit(const std::string& configure, const std::string& write, const std::string& read,
              const std::string& vhost = "/") {
    b.set_permissions("alice", vhost, configure, write, read);
  }

  std::unique_ptr<client> alice(const char* vhost = "/") {
    auto c = std::make_unique<client>(b, next_port++);
    auto frames = c->login("alice", "pw", vhost);
    REQUIRE_FALSE(frames.empty());
    REQUIRE(frames.back().method_key() == amqp::connection_open_ok::id.key());
    return c;
  }

  std::vector<decoded_frame> alice_refused(const char* vhost) {
    client c(b, next_port++);
    return c.login("alice", "pw", vhost);
  }
};

amqp::field_table with(const std::string& key, const std::string& value) {
  amqp::field_table t;
  t.set(key, value);
  return t;
}

amqp::exchange_declare exchange_declare(const std::string& name, amqp::field_table arguments = {}) {
  amqp::exchange_declare m;
  m.exchange = name;
  m.type = "direct";
  m.arguments = std::move(arguments);
  return m;
}

amqp::queue_declare queue_declare(const std::string& name, amqp::field_table arguments = {}) {
  amqp::queue_declare m;
  m.queue = name;
  m.arguments = std::move(arguments);
  return m;
}

}  // namespace

TEST_CASE("connection.open: the vhost's connection limit, then the user's, then permissions") {
  world w(user_limits{0, std::nullopt});
  w.b.put_vhost("v", vhost_settings{"", {}, "", vhost_limits{0, std::nullopt}});
  expect_connection_close(w.alice_refused("v"), 530,
                          "NOT_ALLOWED - access to vhost 'v' refused for user 'alice': connection limit (0) is reached",
                          10, 40);
  w.b.put_vhost("v", vhost_settings{});
  expect_connection_close(w.alice_refused("v"), 530,
                          "NOT_ALLOWED - connection refused for user 'alice': user connection limit (0) is reached",
                          10, 40);
  w.b.put_user(user_account{"alice", hash_password("pw"), {}, {}});
  expect_connection_close(w.alice_refused("v"), 530, "NOT_ALLOWED - access to vhost 'v' refused for user 'alice'", 10,
                          40);
  expect_connection_close(w.alice_refused("nowhere"), 530, "NOT_ALLOWED - vhost nowhere not found", 10, 40);
  w.permit("", "", "", "v");
  w.alice("v");
}

TEST_CASE("connection.update-secret: the password is taken, another secret closes with 530; out of place it is a 504 naming RabbitMQ's state") {
  world w;
  w.permit(".*", ".*", ".*");
  auto c = w.alice();
  auto frames = c->feed(method_frame(0, amqp::connection_update_secret{{"pw"}, "rotation"}));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].method_key() == amqp::connection_update_secret_ok::id.key());
  CHECK(c->c.current_state() == connection::state::open);
  for (std::string secret : {"not the password", ""}) {
    auto refused = w.alice();
    expect_connection_close(refused->feed(method_frame(0, amqp::connection_update_secret{{secret}, "rotation"})), 530,
                            "NOT_ALLOWED - New secret was refused by one of the backends", 10, 70);
  }
  // The password is unchanged.
  client wrong(w.b, 99);
  expect_connection_close(wrong.login("alice", "not the password", nullptr), 403,
                          "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see "
                          "the broker logfile.",
                          0, 0);
  expect_connection_close(c->feed(method_frame(0, amqp::connection_tune_ok{2047, 131072, 0})), 504,
                          "CHANNEL_ERROR - unexpected method in connection state running", 10, 31);
  client early(w.b, 100);
  early.login("alice", "pw", nullptr);
  expect_connection_close(early.feed(method_frame(0, amqp::connection_update_secret{{"pw"}, "too early"})), 504,
                          "CHANNEL_ERROR - unexpected method in connection state opening", 10, 70);
}

TEST_CASE("the default exchange is checked under the name amq.default") {
  world w;
  w.permit(".*", "", ".*");
  auto c = w.alice();
  c->on_new_channel(queue_declare("q"));
  expect_channel_close(c->publish("", "q"), 403, refused("exchange", "amq.default"), 60, 40);
  w.permit(".*", "^$", ".*");
  expect_channel_close(c->publish("", "q"), 403, refused("exchange", "amq.default"), 60, 40);
  expect_channel_close(c->on_new_channel(queue_declare("q.dlx", with("x-dead-letter-exchange", ""))).second, 403,
                       refused("exchange", "amq.default"), 50, 10);
  w.permit(".*", "^amq\\.default$", ".*");
  expect_no_close(c->publish("", "q"));
  CHECK(w.b.find_vhost("/")->find_queue("q")->ready_count() == 1);
}

TEST_CASE("exchange.declare: default exchange, configure, then for a new one read on it and write on the alternate") {
  world w;
  w.permit("^c", "^w", "^(cr|r)\\.");
  auto c = w.alice();
  expect_channel_close(c->on_new_channel(exchange_declare("")).second, 403,
                       "ACCESS_REFUSED - operation not permitted on the default exchange", 40, 10);
  expect_channel_close(c->on_new_channel(exchange_declare("x")).second, 403, refused("exchange", "x"), 40, 10);
  expect_channel_close(c->on_new_channel(exchange_declare("c.ae", with("alternate-exchange", "r.ae"))).second, 403,
                       refused("exchange", "c.ae"), 40, 10);
  expect_channel_close(c->on_new_channel(exchange_declare("cr.ae", with("alternate-exchange", "r.ae"))).second, 403,
                       refused("exchange", "r.ae"), 40, 10);
  expect_no_close(c->on_new_channel(exchange_declare("cr.ae", with("alternate-exchange", "w.ae"))).second);
  amqp::field_table not_a_name;
  not_a_name.set("alternate-exchange", std::int32_t{5});
  expect_channel_close(c->on_new_channel(exchange_declare("c.int", not_a_name)).second, 406,
                       "PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange "
                       "'c.int' in vhost '/'",
                       40, 10);
  // A redeclaration is compared, not checked again.
  w.permit("^c", "", "");
  expect_no_close(c->on_new_channel(exchange_declare("cr.ae", with("alternate-exchange", "w.ae"))).second);
  w.permit("^(c|amq)", "", "");
  expect_channel_close(c->on_new_channel(exchange_declare("amq.x")).second, 403,
                       "ACCESS_REFUSED - exchange name 'amq.x' contains reserved prefix 'amq.*'", 40, 10);
  // The type comes first of all, and an unknown one ends the connection.
  amqp::exchange_declare unknown = exchange_declare("x");
  unknown.type = "nosuchtype";
  expect_connection_close(c->on_new_channel(unknown).second, 503,
                          "COMMAND_INVALID - unknown exchange type 'nosuchtype'", 40, 10);
}

TEST_CASE("queue.declare: amq.* names first, configure, then for a new one the limit and the dead-letter exchange") {
  world w;
  w.b.put_vhost("/", vhost_settings{"", {}, "", vhost_limits{std::nullopt, 1}});
  w.permit("^c", "^w", "^(cr|r)\\.");
  auto c = w.alice();
  expect_channel_close(c->on_new_channel(queue_declare("amq.q")).second, 403,
                       "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'", 50, 10);
  expect_channel_close(c->on_new_channel(queue_declare("x")).second, 403, refused("queue", "x"), 50, 10);
  expect_no_close(c->on_new_channel(queue_declare("c.first")).second);
  expect_channel_close(c->on_new_channel(queue_declare("c.dlx", with("x-dead-letter-exchange", "r.dlx"))).second, 406,
                       "PRECONDITION_FAILED - cannot declare queue 'c.dlx': queue limit in vhost '/' (1) is reached",
                       50, 10);
  w.b.put_vhost("/", vhost_settings{});
  expect_channel_close(c->on_new_channel(queue_declare("c.dlx", with("x-dead-letter-exchange", "w.dlx"))).second, 403,
                       refused("queue", "c.dlx"), 50, 10);
  expect_channel_close(c->on_new_channel(queue_declare("cr.dlx", with("x-dead-letter-exchange", "r.dlx"))).second,
                       403, refused("exchange", "r.dlx"), 50, 10);
  // A server-named queue may not be redeclared by its name, whoever asks.
  w.permit("^(c|amq\\.gen)", ".*", ".*");
  auto [n, frames] = c->on_new_channel(queue_declare(""));
  REQUIRE(frames.back().method_key() == amqp::queue_declare_ok::id.key());
  std::string generated = frames.back().method<amqp::queue_declare_ok>().queue;
  expect_channel_close(c->on_new_channel(queue_declare(generated)).second, 403,
                       "ACCESS_REFUSED - queue name '" + generated + "' contains reserved prefix 'amq.*'", 50, 10);
}

TEST_CASE("bindings: write on the destination, then the default exchange, then read on the source") {
  world w;
  w.permit(".*", "^w", "^r");
  auto c = w.alice();
  c->on_new_channel(queue_declare("w.q"));
  amqp::queue_bind bind;
  bind.queue = "w.q";
  bind.exchange = "";
  bind.routing_key = "k";
  expect_channel_close(c->on_new_channel(bind).second, 403,
                       "ACCESS_REFUSED - operation not permitted on the default exchange", 50, 20);
  bind.queue = "r.q";
  expect_channel_close(c->on_new_channel(bind).second, 403, refused("queue", "r.q"), 50, 20);
  amqp::exchange_bind xbind;
  xbind.destination = "";
  xbind.source = "r.x";
  expect_channel_close(c->on_new_channel(xbind).second, 403, refused("exchange", "amq.default"), 40, 30);
  w.permit(".*", "^(w|amq\\.default$)", "^r");
  expect_channel_close(c->on_new_channel(xbind).second, 403,
                       "ACCESS_REFUSED - operation not permitted on the default exchange", 40, 30);
}

TEST_CASE("exchange.delete: the default exchange and amq.* before configure") {
  world w;
  w.permit("", "", "");
  auto c = w.alice();
  amqp::exchange_delete del;
  expect_channel_close(c->on_new_channel(del).second, 403,
                       "ACCESS_REFUSED - operation not permitted on the default exchange", 40, 20);
  del.exchange = "amq.direct";
  expect_channel_close(c->on_new_channel(del).second, 403,
                       "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed", 40, 20);
  del.exchange = "mine";
  expect_channel_close(c->on_new_channel(del).second, 403, refused("exchange", "mine"), 40, 20);
}

TEST_CASE("publish: write, the exchange, then user_id, then expiration") {
  world w;
  w.permit(".*", "^w", ".*");
  auto c = w.alice();
  c->on_new_channel(exchange_declare("w.x"));
  amqp::basic_properties someone_else;
  someone_else.user_id = "guest";
  someone_else.expiration = "soon";
  expect_channel_close(c->publish("amq.direct", "k", someone_else), 403, refused("exchange", "amq.direct"), 60, 40);
  expect_channel_close(c->publish("w.none", "k", someone_else), 404, "NOT_FOUND - no exchange 'w.none' in vhost '/'",
                       60, 40);
  expect_channel_close(c->publish("w.x", "k", someone_else), 406,
                       "PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was 'alice'", 60,
                       40);
  amqp::basic_properties herself;
  herself.user_id = "alice";
  herself.expiration = "soon";
  expect_channel_close(c->publish("w.x", "k", herself), 406,
                       "PRECONDITION_FAILED - invalid expiration 'soon': no_integer", 60, 40);
  herself.expiration.reset();
  expect_no_close(c->publish("w.x", "k", herself));
}

TEST_CASE("user_id: the impersonator tag counts as the user had it at login") {
  world w;
  w.permit(".*", ".*", ".*");
  auto before = w.alice();
  w.b.put_user(user_account{"alice", hash_password("pw"), {"impersonator"}, {}});
  amqp::basic_properties guest;
  guest.user_id = "guest";
  expect_channel_close(before->publish("amq.direct", "k", guest), 406,
                       "PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was 'alice'", 60,
                       40);
  auto after = w.alice();
  expect_no_close(after->publish("amq.direct", "k", guest));
  w.b.put_user(user_account{"alice", hash_password("pw"), {}, {}});
  expect_no_close(after->publish("amq.direct", "k", guest));
}

TEST_CASE("EXTERNAL is offered only on TLS with a verified client certificate") {
  world w;
  auto mechanisms = [&](void (*secure)(connection&)) {
    client c(w.b, w.next_port++);
    secure(c.c);
    auto frames = c.feed(std::string(amqp::protocol_header));
    REQUIRE(frames.size() == 1);
    return frames[0].method<amqp::connection_start>().mechanisms.value;
  };
  CHECK(mechanisms([](connection&) {}) == "PLAIN AMQPLAIN");
  CHECK(mechanisms([](connection& c) { c.secured_by_tls(""); }) == "PLAIN AMQPLAIN");
  CHECK(mechanisms([](connection& c) { c.secured_by_tls("alice"); }) == "PLAIN AMQPLAIN EXTERNAL");
}

TEST_CASE("EXTERNAL logs in as the certificate's CN without a password; the user must exist and be let in") {
  world w;
  w.permit(".*", ".*", ".*");
  client alice(w.b, w.next_port++);
  alice.c.secured_by_tls("alice");
  auto frames = alice.login_with("EXTERNAL", "", "/");
  REQUIRE_FALSE(frames.empty());
  CHECK(frames.back().method_key() == amqp::connection_open_ok::id.key());
  CHECK(alice.c.user() == "alice");
  CHECK(alice.c.over_tls());

  client stranger(w.b, w.next_port++);
  stranger.c.secured_by_tls("mallory");
  expect_connection_close(stranger.login_with("EXTERNAL", "", nullptr), 403,
                          "ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. For details "
                          "see the broker logfile.",
                          0, 0);

  // Without permissions on the vhost the usual 530 follows, as for a password login.
  client bob(w.b, w.next_port++);
  w.b.put_user(user_account{"bob", hash_password("pw"), {}, {}});
  bob.c.secured_by_tls("bob");
  expect_connection_close(bob.login_with("EXTERNAL", "", "/"), 530,
                          "NOT_ALLOWED - access to vhost '/' refused for user 'bob'", 10, 40);
}

TEST_CASE("EXTERNAL where it was not offered closes the connection before tune") {
  world w;
  client c(w.b, w.next_port++);
  c.c.secured_by_tls("");
  c.login_with("EXTERNAL", "", nullptr);
  CHECK(c.events.closed);
  CHECK(c.c.user().empty());
}
