// The admin API's users, vhosts, permissions, topic permissions, limits,
// tag-based authorisation and definitions with access control, as pure
// functions of (request, broker): handle_request against a broker without
// sockets or store; AMQP clients are connection objects fed frames.
// Expected statuses and reasons are RabbitMQ 3.10.8's (checked against a
// node by tests/integration/test_admin_access.py and test_definitions.py).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "admin-ui/api.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/authorization.hpp"
#include "admin-ui/definitions.hpp"
#include "admin-ui/router.hpp"
#include "amqp/frame.hpp"
#include "broker/common/base64.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;
using namespace roost::admin;
using namespace roost::test;
using nlohmann::json;

namespace {

struct reply {
  int status;
  json body;  // null when the body is empty or not JSON
  std::string raw;
};

struct fixture {
  broker b{config{}};
  admin_context ctx{b, {{"amqp", "127.0.0.1", 5672}, {"http", "127.0.0.1", 15672}}, "/nonexistent"};

  reply as(const std::string& user, const std::string& password, const std::string& method,
           const std::string& target, const json& body = nullptr) {
    http_request req;
    req.method = method;
    req.target = target;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers["content-type"] = "application/json";
    }
    if (!user.empty()) req.headers["authorization"] = "Basic " + base64_encode(user + ":" + password);
    http_response r = handle_request(req, ctx);
    json parsed = r.body.empty() ? json() : json::parse(r.body, nullptr, false);
    return {r.status, parsed.is_discarded() ? json() : parsed, r.body};
  }
  reply call(const std::string& method, const std::string& target, const json& body = nullptr) {
    return as("guest", "guest", method, target, body);
  }
  int status(const std::string& method, const std::string& target, const json& body = nullptr) {
    return call(method, target, body).status;
  }
  json get(const std::string& target) {
    reply r = call("GET", target);
    REQUIRE_MESSAGE(r.status == 200, target << ": " << r.status << " " << r.raw);
    return r.body;
  }
  // A user with these tags and, when vhost is not empty, every permission there.
  void user(const std::string& name, const std::string& tags, const std::string& vhost = "") {
    REQUIRE(status("PUT", "/api/users/" + name, json{{"password", name + "-pw"}, {"tags", tags}}) == 201);
    if (!vhost.empty())
      REQUIRE(status("PUT", "/api/permissions/" + percent_encode(vhost) + "/" + name,
                     json{{"configure", ".*"}, {"write", ".*"}, {"read", ".*"}}) == 201);
  }
  reply by(const std::string& name, const std::string& method, const std::string& target, const json& body = nullptr) {
    return as(name, name + "-pw", method, target, body);
  }
};

// An AMQP client without a socket, logged in as user on vhost.
struct amqp_client {
  recorded_events events;
  connection c;

  // Each client its own peer port, so connection names differ.
  static inline int next_port = 40000;

  amqp_client(broker& b, const std::string& user, const std::string& password, const std::string& vhost)
      : c(b, events, "127.0.0.1:" + std::to_string(next_port++), true) {
    feed(std::string(amqp::protocol_header));
    amqp::connection_start_ok start_ok;
    start_ok.mechanism = "PLAIN";
    start_ok.response.value = std::string(1, '\0') + user + std::string(1, '\0') + password;
    start_ok.locale = "en_US";
    feed(method_frame(0, start_ok));
    feed(method_frame(0, amqp::connection_tune_ok{2047, 131072, 0}));
    feed(method_frame(0, amqp::connection_open{vhost, "", false}));
    feed(method_frame(1, amqp::channel_open{}));
    drain(c);
  }
  void feed(const std::string& bytes) { REQUIRE(c.consume(bytes) == bytes.size()); }
  // The connection.close the broker sent last, if any.
  std::optional<amqp::connection_close> closed() {
    for (auto& f : drain(c))
      if (f.method_key() == amqp::connection_close::id.key()) return f.method<amqp::connection_close>();
    return std::nullopt;
  }
};

json names_of(const json& items, const char* field = "name") {
  json out = json::array();
  for (const auto& i : items) out.push_back(i[field]);
  return out;
}

}  // namespace

TEST_CASE("users: create 201, update 204, RabbitMQ's shape, the new password logs in, none in the answer") {
  fixture f;
  reply r = f.call("PUT", "/api/users/alice", json{{"password", "secret-alice"}, {"tags", "management, policymaker"}});
  CHECK(r.status == 201);
  CHECK(r.raw.empty());
  json alice = f.get("/api/users/alice");
  CHECK(alice["name"] == "alice");
  CHECK(alice["tags"] == json::array({"management", "policymaker"}));
  CHECK(alice["hashing_algorithm"] == "rabbit_password_hashing_sha256");
  CHECK(base64_decode(alice["password_hash"].get<std::string>())->size() == 4 + 32);
  CHECK(alice["limits"] == json::object());
  CHECK(alice.dump().find("secret-alice") == std::string::npos);
  CHECK(f.as("alice", "secret-alice", "GET", "/api/whoami").body ==
        json{{"name", "alice"}, {"tags", {"management", "policymaker"}}});
  CHECK(f.as("alice", "wrong", "GET", "/api/whoami").status == 401);
  // A list of tags, trimmed; an update answers 204 and the new password replaces the old.
  CHECK(f.status("PUT", "/api/users/alice", json{{"password", "second"}, {"tags", {" a ", "b c"}}}) == 204);
  CHECK(f.get("/api/users/alice")["tags"] == json::array({"a", "b c"}));
  CHECK(f.as("alice", "secret-alice", "GET", "/api/overview").status == 401);
  CHECK(names_of(f.get("/api/users")) == json::array({"alice", "guest"}));
}

TEST_CASE("users: a PUT without password or hash leaves the user without one, as RabbitMQ 3.10 does") {
  fixture f;
  f.user("bob", "management", "/");
  CHECK(f.by("bob", "GET", "/api/whoami").status == 200);
  CHECK(f.status("PUT", "/api/users/bob", json{{"tags", "monitoring"}}) == 204);
  json bob = f.get("/api/users/bob");
  CHECK(bob["password_hash"] == "");
  CHECK(bob["tags"] == json::array({"monitoring"}));
  CHECK(f.by("bob", "GET", "/api/whoami").status == 401);
  // A new user without a password exists and cannot log in with any password, the blank one included.
  CHECK(f.status("PUT", "/api/users/carol", json{{"tags", ""}}) == 201);
  CHECK(f.get("/api/users/carol")["tags"] == json::array());
  CHECK(f.as("carol", "", "GET", "/api/whoami").status == 401);
  CHECK(f.status("PUT", "/api/users/dave", json{{"password", ""}, {"tags", "administrator"}}) == 201);
  CHECK(f.as("dave", "", "GET", "/api/whoami").status == 401);
}

TEST_CASE("users: password_hash with each hashing algorithm logs in with the original password") {
  fixture f;
  for (hashing_algorithm a : {hashing_algorithm::sha256, hashing_algorithm::sha512, hashing_algorithm::md5}) {
    std::string name = "u-" + std::string(hashing_algorithm_name(a));
    password_hash h = hash_password_with_salt("from-elsewhere", "salt", a);
    CHECK(f.status("PUT", "/api/users/" + name,
                   json{{"password_hash", h.base64()}, {"hashing_algorithm", hashing_algorithm_name(a)},
                        {"tags", "management"}}) == 201);
    json u = f.get("/api/users/" + name);
    CHECK(u["password_hash"] == h.base64());
    CHECK(u["hashing_algorithm"] == hashing_algorithm_name(a));
    CHECK(f.as(name, "from-elsewhere", "GET", "/api/whoami").status == 200);
  }
  // A password is always hashed with SHA-256, whatever hashing_algorithm says (RabbitMQ ignores it there).
  CHECK(f.status("PUT", "/api/users/e", json{{"password", "x"}, {"hashing_algorithm", "rabbit_password_hashing_md5"},
                                             {"tags", ""}}) == 201);
  CHECK(f.get("/api/users/e")["hashing_algorithm"] == "rabbit_password_hashing_sha256");
}

TEST_CASE("users: bad bodies are 400 with RabbitMQ's reasons and change nothing") {
  fixture f;
  auto refused = [&](const json& body) {
    reply r = f.call("PUT", "/api/users/x", body);
    CHECK(r.status == 400);
    CHECK(f.call("GET", "/api/users/x").status == 404);
    return r.body["reason"];
  };
  CHECK(refused(json{{"password", "p"}}) == "tags_not_present");
  CHECK(refused(json{{"password", "p"}, {"password_hash", ""}, {"tags", ""}}) ==
        "both_password_and_password_hash_are_provided");
  CHECK(refused(json{{"password_hash", "!!"}, {"tags", ""}}) == json::array({"not_base64", "!!"}));
  CHECK(refused(json{{"password_hash", "AAAA"}, {"tags", ""}}).get<std::string>().find("not a") != std::string::npos);
  CHECK(refused(json{{"password", "p"}, {"hashing_algorithm", "rabbit_password_hashing_sha1"}, {"tags", ""}})
            .get<std::string>()
            .find("unknown hashing_algorithm") != std::string::npos);
  refused(json{{"password", "p"}, {"tags", 5}});
  refused(json{{"password", 5}, {"tags", ""}});
  refused(json{{"password", "p"}, {"tags", ""}, {"colour", "red"}});
  refused(json{{"password", "p"}, {"tags", ""}, {"limits", {{"max-queues", 1}}}});
  CHECK(f.call("PUT", "/api/users/x", nullptr).status == 400);
  // The legacy "administrator" flag stands for the tag.
  CHECK(f.status("PUT", "/api/users/x", json{{"password", "p"}, {"administrator", "true"}}) == 201);
  CHECK(f.get("/api/users/x")["tags"] == json::array({"administrator"}));
}

TEST_CASE("users: delete closes the user's connections; without-permissions; bulk-delete stops at the first unknown") {
  fixture f;
  f.user("app", "", "/");
  amqp_client client(f.b, "app", "app-pw", "/");
  f.user("lonely", "management");
  f.user("also", "");
  CHECK(names_of(f.get("/api/users/without-permissions")) == json::array({"also", "lonely"}));
  CHECK(f.status("DELETE", "/api/users/app") == 204);
  auto close = client.closed();
  REQUIRE(close);
  CHECK(close->reply_code == 320);
  CHECK(close->reply_text == "CONNECTION_FORCED - user 'app' is deleted");
  CHECK(f.status("DELETE", "/api/users/app") == 404);
  CHECK(f.call("GET", "/api/users/app").body == json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  // PUT on the literal resource is not a user named "without-permissions".
  CHECK(f.status("PUT", "/api/users/without-permissions", json{{"password", "p"}, {"tags", ""}}) == 405);
  reply r = f.call("POST", "/api/users/bulk-delete", json{{"users", {"lonely", "nobody", "also"}}});
  CHECK(r.status == 400);
  CHECK(r.body["reason"] == json::array({"no_such_user", "nobody"}));
  CHECK(f.status("GET", "/api/users/lonely") == 404);  // deleted before the unknown name, as in RabbitMQ
  CHECK(f.status("GET", "/api/users/also") == 200);
  CHECK(f.call("POST", "/api/users/bulk-delete", json::object()).body["reason"] == "[{key_missing,users}]");
  CHECK(f.status("POST", "/api/users/bulk-delete", json{{"users", {"also"}}}) == 204);
  CHECK(f.status("GET", "/api/users/also") == 404);
}

TEST_CASE("vhosts: create gives the creator every permission, update replaces description and tags, delete") {
  fixture f;
  CHECK(f.status("PUT", "/api/vhosts/v1", json{{"description", "first"}, {"tags", "a,b"}}) == 201);
  json v1 = f.get("/api/vhosts/v1");
  CHECK(v1["description"] == "first");
  CHECK(v1["tags"] == json::array({"a", "b"}));
  CHECK(v1["metadata"] == json{{"description", "first"}, {"tags", {"a", "b"}}});
  CHECK(v1["default_queue_type"] == "undefined");
  CHECK(v1["tracing"] == false);
  CHECK(f.get("/api/permissions/v1/guest") ==
        json{{"user", "guest"}, {"vhost", "v1"}, {"configure", ".*"}, {"write", ".*"}, {"read", ".*"}});
  CHECK(f.status("PUT", "/api/vhost-limits/v1/max-queues", json{{"value", 3}}) == 204);
  CHECK(f.status("PUT", "/api/vhosts/v1", json{{"tags", {"c"}}, {"default_queue_type", "quorum"}}) == 204);
  v1 = f.get("/api/vhosts/v1");
  CHECK(v1["description"] == "");
  CHECK(v1["tags"] == json::array({"c"}));
  CHECK(v1["default_queue_type"] == "quorum");
  CHECK(f.b.find_vhost("v1")->settings().limits.max_queues == 3);  // an update keeps the limits
  CHECK(f.status("PUT", "/api/vhosts/v1", json{{"description", "x"}}) == 204);
  CHECK(f.get("/api/vhosts/v1")["default_queue_type"] == "quorum");
  CHECK(f.status("PUT", "/api/vhosts/v2", json{{"default_queue_type", "lazy"}}) == 400);
  CHECK(f.status("PUT", "/api/vhosts/v2", json{{"tracing", true}}) == 400);
  CHECK(f.b.find_vhost("v2") == nullptr);
  // rabbitmqadmin's body for "declare vhost name=v2".
  CHECK(f.status("PUT", "/api/vhosts/v2", json{{"name", "v2"}, {"vhost", "/"}}) == 201);
  CHECK(names_of(f.get("/api/vhosts")) == json::array({"/", "v1", "v2"}));
  CHECK(f.get("/api/vhosts/%2F")["description"] == "Default virtual host");
  CHECK(f.status("DELETE", "/api/vhosts/v2") == 204);
  CHECK(f.status("DELETE", "/api/vhosts/v2") == 404);
  CHECK(f.status("GET", "/api/vhosts/v2") == 404);
}

TEST_CASE("vhosts: deleting one closes its AMQP connections with 320 and drops its queues and permissions") {
  fixture f;
  REQUIRE(f.status("PUT", "/api/vhosts/doomed") == 201);
  REQUIRE(f.status("PUT", "/api/queues/doomed/q", json{{"durable", true}}) == 201);
  amqp_client in_it(f.b, "guest", "guest", "doomed");
  amqp_client elsewhere(f.b, "guest", "guest", "/");
  CHECK(f.get("/api/connections").size() == 2);
  CHECK(f.status("DELETE", "/api/vhosts/doomed") == 204);
  auto close = in_it.closed();
  REQUIRE(close);
  CHECK(close->reply_code == 320);
  CHECK(close->reply_text == "CONNECTION_FORCED - vhost 'doomed' is deleted");
  CHECK_FALSE(elsewhere.closed());
  CHECK(f.status("GET", "/api/permissions/doomed/guest") == 404);
  CHECK(f.get("/api/queues").empty());
}

TEST_CASE("permissions: set 201 then 204, show, lists by user and vhost, clear; RabbitMQ's refusals") {
  fixture f;
  f.user("alice", "");
  json rules{{"configure", "^a"}, {"write", ".*"}, {"read", ""}};
  CHECK(f.status("PUT", "/api/permissions/%2F/alice", rules) == 201);
  CHECK(f.status("PUT", "/api/permissions/%2F/alice", rules) == 204);
  CHECK(f.get("/api/permissions/%2F/alice") ==
        json{{"user", "alice"}, {"vhost", "/"}, {"configure", "^a"}, {"write", ".*"}, {"read", ""}});
  CHECK(f.get("/api/users/alice/permissions").size() == 1);
  CHECK(names_of(f.get("/api/vhosts/%2F/permissions"), "user") == json::array({"alice", "guest"}));
  CHECK(f.get("/api/permissions").size() == 2);
  CHECK(f.b.access().allows("alice", "/", access::configure, "abc"));
  CHECK_FALSE(f.b.access().allows("alice", "/", access::read, "abc"));

  CHECK(f.call("PUT", "/api/permissions/%2F/nobody", rules).body["reason"] == "vhost_or_user_not_found");
  CHECK(f.call("PUT", "/api/permissions/nowhere/alice", json::object()).body["reason"] == "vhost_or_user_not_found");
  CHECK(f.call("PUT", "/api/permissions/%2F/alice", json{{"configure", "a"}}).body["reason"] ==
        "[{key_missing,write},{key_missing,read}]");
  reply bad = f.call("PUT", "/api/permissions/%2F/alice", json{{"configure", "a"}, {"write", "("}, {"read", "["}});
  CHECK(bad.status == 400);
  CHECK(bad.body["reason"][0] == "invalid_regexp");
  CHECK(bad.body["reason"][1] == "(");
  CHECK(f.get("/api/permissions/%2F/alice")["write"] == ".*");  // unchanged
  CHECK(f.status("GET", "/api/users/nobody/permissions") == 404);
  CHECK(f.status("GET", "/api/vhosts/nowhere/permissions") == 404);

  CHECK(f.status("DELETE", "/api/permissions/%2F/alice") == 204);
  CHECK(f.status("DELETE", "/api/permissions/%2F/alice") == 404);
  CHECK(f.status("GET", "/api/permissions/%2F/alice") == 404);
}

TEST_CASE("topic permissions: per exchange, listed, cleared for the whole vhost") {
  fixture f;
  f.user("alice", "", "/");
  CHECK(f.status("PUT", "/api/topic-permissions/%2F/alice",
                 json{{"exchange", "amq.topic"}, {"write", "^a\\."}, {"read", ".*"}}) == 201);
  CHECK(f.status("PUT", "/api/topic-permissions/%2F/alice",
                 json{{"exchange", "logs"}, {"write", "^{username}\\."}, {"read", ".*"}}) == 204);
  json mine = f.get("/api/topic-permissions/%2F/alice");
  CHECK(names_of(mine, "exchange") == json::array({"amq.topic", "logs"}));
  CHECK(mine[1]["write"] == "^{username}\\.");
  CHECK(f.b.access().topic_allows("alice", "/", "logs", access::write, "alice.x"));
  CHECK_FALSE(f.b.access().topic_allows("alice", "/", "logs", access::write, "bob.x"));
  CHECK(f.get("/api/topic-permissions").size() == 2);
  CHECK(f.get("/api/users/alice/topic-permissions").size() == 2);
  CHECK(f.get("/api/vhosts/%2F/topic-permissions").size() == 2);
  CHECK(f.call("PUT", "/api/topic-permissions/%2F/alice", json{{"write", "a"}, {"read", "b"}}).body["reason"] ==
        "[{key_missing,exchange}]");
  CHECK(f.call("PUT", "/api/topic-permissions/%2F/alice", json{{"exchange", "x"}, {"write", "("}, {"read", "b"}})
            .status == 400);
  CHECK(f.call("PUT", "/api/topic-permissions/%2F/nobody", json::object()).body["reason"] ==
        "vhost_or_user_not_found");
  CHECK(f.status("DELETE", "/api/topic-permissions/%2F/alice") == 204);
  CHECK(f.status("GET", "/api/topic-permissions/%2F/alice") == 404);
  CHECK(f.status("DELETE", "/api/topic-permissions/%2F/alice") == 404);
}

TEST_CASE("limits: user and vhost limits set, listed, cleared; RabbitMQ's texts for bad ones") {
  fixture f;
  f.user("alice", "management", "/");
  CHECK(f.status("PUT", "/api/user-limits/alice/max-connections", json{{"value", 10}}) == 204);
  CHECK(f.status("PUT", "/api/user-limits/alice/max-channels", json{{"value", -1}}) == 204);
  CHECK(f.get("/api/user-limits") ==
        json::array({json{{"user", "alice"}, {"value", {{"max-connections", 10}, {"max-channels", -1}}}}}));
  CHECK(f.get("/api/users/alice")["limits"] == json{{"max-connections", 10}, {"max-channels", -1}});
  CHECK(f.get("/api/user-limits/guest") == json::array());
  CHECK(f.status("GET", "/api/user-limits/nobody") == 404);
  CHECK(f.call("PUT", "/api/user-limits/alice/max-queues", json{{"value", 5}}).body["reason"] ==
        "Unrecognised terms [{<<\"max-queues\">>,5}] in user-limits");
  CHECK(f.call("PUT", "/api/user-limits/alice/max-channels", json{{"value", "x"}}).body["reason"] ==
        "max-channels should be a number, actually was <<\"x\">>");
  CHECK(f.call("PUT", "/api/user-limits/alice/max-channels", json{{"value", 5.5}}).body["reason"] ==
        "max-channels should be a number, actually was 5.5");
  CHECK(f.call("PUT", "/api/user-limits/alice/max-channels", json::object()).body["reason"] ==
        "[{key_missing,value}]");
  CHECK(f.call("PUT", "/api/user-limits/nobody/max-channels", json{{"value", 1}}).body["reason"] ==
        json::array({"no_such_user", "nobody"}));
  CHECK(f.status("DELETE", "/api/user-limits/alice/max-connections") == 204);
  CHECK(f.status("DELETE", "/api/user-limits/alice/max-connections") == 204);
  CHECK(f.get("/api/user-limits/alice") == json::array({json{{"user", "alice"}, {"value", {{"max-channels", -1}}}}}));

  CHECK(f.status("PUT", "/api/vhost-limits/%2F/max-queues", json{{"value", 0}}) == 204);
  CHECK(f.status("PUT", "/api/vhost-limits/%2F/max-connections", json{{"value", 7}}) == 204);
  CHECK(f.get("/api/vhost-limits/%2F") ==
        json::array({json{{"vhost", "/"}, {"value", {{"max-queues", 0}, {"max-connections", 7}}}}}));
  CHECK(f.status("PUT", "/api/queues/%2F/one") >= 400);
  CHECK(f.b.find_vhost("/")->find_queue("one") == nullptr);  // max-queues 0 allows none
  CHECK(f.call("PUT", "/api/vhost-limits/%2F/max-channels", json{{"value", 5}}).body["reason"] ==
        "Validation failed\n\nUnrecognised terms [{<<\"max-channels\">>,5}] in limits\n");
  CHECK(f.call("PUT", "/api/vhost-limits/%2F/max-queues", json{{"value", "5"}}).body["reason"] ==
        "Validation failed\n\nmax-queues should be a number, actually was <<\"5\">>\n");
  reply missing = f.call("PUT", "/api/vhost-limits/nowhere/max-queues", json{{"value", 1}});
  CHECK(missing.status == 404);
  CHECK(missing.body == json{{"error", "not_found"}, {"reason", "vhost_not_found"}});
  CHECK(f.status("DELETE", "/api/vhost-limits/%2F/max-queues") == 204);
  CHECK(f.get("/api/vhost-limits") == json::array({json{{"vhost", "/"}, {"value", {{"max-connections", 7}}}}}));
  CHECK(f.status("DELETE", "/api/vhost-limits/%2F/max-connections") == 204);
  CHECK(f.get("/api/vhost-limits/%2F") == json::array());
}

TEST_CASE("login: no credentials is an empty 401 with the challenge, wrong ones RabbitMQ's not_authorized") {
  fixture f;
  reply r = f.as("", "", "GET", "/api/overview");
  CHECK(r.status == 401);
  CHECK(r.raw.empty());
  r = f.as("guest", "nope", "GET", "/api/overview");
  CHECK(r.status == 401);
  CHECK(r.body == json{{"error", "not_authorized"}, {"reason", "Login failed"}});
  // 404 and 405 come before the login, as in RabbitMQ.
  CHECK(f.as("", "", "GET", "/api/nothing").status == 404);
  CHECK(f.as("", "", "POST", "/api/overview").status == 405);
}

TEST_CASE("authorisation: a user without management tags gets 401 'Not management user' everywhere") {
  fixture f;
  f.user("app", "impersonator", "/");
  for (const char* target : {"/api/overview", "/api/whoami", "/api/queues", "/api/queues/%2F", "/api/connections",
                             "/api/vhosts", "/api/users", "/api/definitions", "/api/user-limits"}) {
    reply r = f.by("app", "GET", target);
    CHECK_MESSAGE(r.status == 401, target);
    CHECK(r.body == json{{"error", "not_authorised"}, {"reason", "Not management user"}});
  }
  CHECK(f.by("app", "PUT", "/api/queues/%2F/q", json::object()).status == 401);
  CHECK(f.b.find_vhost("/")->find_queue("q") == nullptr);
}

TEST_CASE("authorisation: management sees and acts only in its vhosts, never on users, vhosts or permissions") {
  fixture f;
  REQUIRE(f.status("PUT", "/api/vhosts/mine") == 201);
  REQUIRE(f.status("PUT", "/api/queues/%2F/root-q") == 201);
  REQUIRE(f.status("PUT", "/api/queues/mine/my-q") == 201);
  f.user("m", "management", "mine");
  CHECK(names_of(f.by("m", "GET", "/api/vhosts").body) == json::array({"mine"}));
  CHECK(names_of(f.by("m", "GET", "/api/queues").body) == json::array({"my-q"}));
  CHECK(f.by("m", "GET", "/api/exchanges").body.size() == 6);
  reply other = f.by("m", "GET", "/api/queues/%2F");
  CHECK(other.status == 401);
  CHECK(other.body["reason"] == "User not authorised to access virtual host");
  CHECK(f.by("m", "PUT", "/api/queues/%2F/x", json::object()).status == 401);
  CHECK(f.by("m", "GET", "/api/queues/nowhere").status == 404);  // a missing vhost is 404, not 401
  for (auto [method, target] : std::initializer_list<std::pair<const char*, const char*>>{
           {"GET", "/api/users"}, {"GET", "/api/users/m"}, {"PUT", "/api/users/z"}, {"GET", "/api/vhosts/mine"},
           {"PUT", "/api/vhosts/z"}, {"DELETE", "/api/vhosts/mine"}, {"GET", "/api/permissions"},
           {"PUT", "/api/permissions/mine/m"}, {"GET", "/api/topic-permissions"}, {"GET", "/api/definitions"},
           {"POST", "/api/definitions"}, {"PUT", "/api/user-limits/m/max-channels"},
           {"PUT", "/api/vhost-limits/mine/max-queues"}, {"POST", "/api/users/bulk-delete"}}) {
    reply r = f.by("m", method, target, json{{"value", 1}});
    CHECK_MESSAGE(r.status == 401, method << " " << target);
    CHECK(r.body["reason"] == "Not administrator user");
  }
  // Limits are readable by every management user (RabbitMQ 3.10).
  CHECK(f.by("m", "GET", "/api/user-limits").status == 200);
  CHECK(f.by("m", "GET", "/api/vhost-limits/mine").status == 200);
  CHECK(f.by("m", "GET", "/api/vhost-limits/%2F").status == 401);
  CHECK(f.by("m", "GET", "/api/whoami").body == json{{"name", "m"}, {"tags", {"management"}}});
  json overview = f.by("m", "GET", "/api/overview").body;
  CHECK(overview["object_totals"]["queues"] == 1);
  CHECK_FALSE(overview.contains("listeners"));
}

TEST_CASE("authorisation: AMQP permissions apply to what management users do through the API") {
  fixture f;
  f.user("mr", "management");
  REQUIRE(f.status("PUT", "/api/permissions/%2F/mr", json{{"configure", "^mr-"}, {"write", "^mr-"}, {"read", "^mr-"}}) ==
          201);
  REQUIRE(f.status("PUT", "/api/queues/%2F/other") == 201);
  REQUIRE(f.status("PUT", "/api/exchanges/%2F/other-x", json{{"type", "direct"}}) == 201);
  auto refused = [&](const char* method, const std::string& target, const json& body = nullptr) {
    reply r = f.by("mr", method, target, body);
    CHECK_MESSAGE(r.status == 401, method << " " << target << " " << r.raw);
    CHECK(r.body["reason"] == "Access refused.");
  };
  refused("PUT", "/api/queues/%2F/q", json::object());
  refused("DELETE", "/api/queues/%2F/other");
  refused("DELETE", "/api/queues/%2F/other/contents");
  refused("PUT", "/api/exchanges/%2F/x", json{{"type", "direct"}});
  refused("DELETE", "/api/exchanges/%2F/other-x");
  CHECK(f.by("mr", "PUT", "/api/queues/%2F/mr-q", json::object()).status == 201);
  refused("POST", "/api/bindings/%2F/e/other-x/q/mr-q", json::object());
  // With a dead-letter exchange, the declare also needs write on it.
  refused("PUT", "/api/queues/%2F/mr-dlq", json{{"arguments", {{"x-dead-letter-exchange", "amq.direct"}}}});
  CHECK(f.by("mr", "DELETE", "/api/queues/%2F/nothing").status == 404);
  reply get = f.by("mr", "POST", "/api/queues/%2F/other/get", json{{"count", 1}, {"ackmode", "ack_requeue_true"}});
  CHECK(get.status == 401);
  CHECK(get.body["reason"] == "ACCESS_REFUSED - access to queue 'other' in vhost '/' refused for user 'mr'");
  reply publish = f.by("mr", "POST", "/api/exchanges/%2F/amq.default/publish",
                       json{{"routing_key", "mr-q"}, {"payload", "p"}, {"payload_encoding", "string"}});
  CHECK(publish.status == 400);
  CHECK(publish.body["reason"] ==
        "403 ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'mr'");
  CHECK(f.by("mr", "POST", "/api/queues/%2F/mr-q/get", json{{"count", 1}, {"ackmode", "ack_requeue_true"}}).status ==
        200);
  // An administrator without permissions in a vhost is refused there too.
  f.user("adm", "administrator");
  reply adm = f.by("adm", "PUT", "/api/queues/%2F/q2", json::object());
  CHECK(adm.status == 401);
  CHECK(adm.body["reason"] == "Access refused.");
  CHECK(f.by("adm", "GET", "/api/queues/%2F/other").status == 200);  // reading needs no permission
}

TEST_CASE("authorisation: topic permissions apply to API publishes and bindings") {
  fixture f;
  f.user("tp", "management", "/");
  REQUIRE(f.status("PUT", "/api/topic-permissions/%2F/tp",
                   json{{"exchange", "amq.topic"}, {"write", "^ok\\."}, {"read", "^ok\\."}}) == 201);
  auto publish = [&](const char* key) {
    return f.by("tp", "POST", "/api/exchanges/%2F/amq.topic/publish",
                json{{"routing_key", key}, {"payload", "p"}, {"payload_encoding", "string"}});
  };
  CHECK(publish("ok.1").status == 200);
  reply bad = publish("bad.1");
  CHECK(bad.status == 400);
  CHECK(bad.body["reason"] ==
        "403 ACCESS_REFUSED - access to topic 'bad.1' in exchange 'amq.topic' in vhost '/' refused for user 'tp'");
  REQUIRE(f.by("tp", "PUT", "/api/queues/%2F/tq", json::object()).status == 201);
  CHECK(f.by("tp", "POST", "/api/bindings/%2F/e/amq.topic/q/tq", json{{"routing_key", "ok.x"}}).status == 201);
  CHECK(f.by("tp", "POST", "/api/bindings/%2F/e/amq.topic/q/tq", json{{"routing_key", "bad.x"}}).status == 401);
}

TEST_CASE("authorisation: monitoring sees every vhost and connection, not other vhosts' queues") {
  fixture f;
  REQUIRE(f.status("PUT", "/api/vhosts/mine") == 201);
  REQUIRE(f.status("PUT", "/api/queues/%2F/root-q") == 201);
  f.user("mon", "monitoring", "mine");
  f.user("m", "management", "/");
  amqp_client guest(f.b, "guest", "guest", "/");
  amqp_client m(f.b, "m", "m-pw", "/");
  CHECK(names_of(f.by("mon", "GET", "/api/vhosts").body) == json::array({"/", "mine"}));
  CHECK(f.by("mon", "GET", "/api/connections").body.size() == 2);
  CHECK(f.by("mon", "GET", "/api/channels").body.size() == 2);
  CHECK(f.by("mon", "GET", "/api/queues").body.empty());
  CHECK(f.by("mon", "GET", "/api/queues/%2F").status == 401);
  CHECK(f.by("mon", "GET", "/api/vhost-limits/%2F").status == 200);
  CHECK(f.by("mon", "GET", "/api/users").status == 401);
  json overview = f.by("mon", "GET", "/api/overview").body;
  CHECK(overview["object_totals"]["connections"] == 2);
  CHECK(overview.contains("listeners"));
  // A management user sees its own connection only, and may not look at or close another's.
  json mine = f.by("m", "GET", "/api/connections").body;
  REQUIRE(mine.size() == 1);
  CHECK(mine[0]["user"] == "m");
  std::string guest_name;
  for (const auto& c : f.get("/api/connections"))
    if (c["user"] == "guest") guest_name = c["name"];
  reply look = f.by("m", "GET", "/api/connections/" + percent_encode(guest_name));
  CHECK(look.status == 401);
  CHECK(look.body["reason"] == "User not authorised to access object");
  CHECK(f.by("mon", "GET", "/api/connections/" + percent_encode(guest_name)).status == 200);
  CHECK(f.by("mon", "DELETE", "/api/connections/" + percent_encode(guest_name)).status == 401);
  CHECK(f.by("m", "DELETE", "/api/connections/" + percent_encode(mine[0]["name"].get<std::string>())).status == 204);
  CHECK(m.closed());
  CHECK_FALSE(guest.closed());
}

TEST_CASE("authorisation: route rules for policymakers, monitors and the vhost check") {
  fixture f;
  REQUIRE(f.status("PUT", "/api/vhosts/mine") == 201);
  f.user("pm", "policymaker", "mine");
  f.user("mon", "monitoring");
  f.user("m", "management");
  auto reason = [&](const std::string& user, const route_access& rule, const std::string& vhost) {
    const user_account* u = f.b.access().find_user(user);
    try {
      check_route_access(f.b, api_caller{user, u->tags}, rule, route_params{{"vhost", vhost}});
    } catch (const api_error& e) {
      CHECK(e.status() == 401);
      return std::string(e.what());
    }
    return std::string("allowed");
  };
  CHECK(reason("pm", for_policymaker, "mine") == "allowed");
  CHECK(reason("pm", for_policymaker, "/") == "User not authorised to access object");
  CHECK(reason("pm", for_policymaker, "missing") == "allowed");  // the handler's 404
  CHECK(reason("m", for_policymaker, "/") == "User not authorised to access object");
  CHECK(reason("guest", for_policymaker, "mine") == "allowed");  // administrators pass
  CHECK(reason("mon", for_monitoring, "missing") == "allowed");
  CHECK(reason("m", for_monitoring, "missing") == "Not monitor user");
  CHECK(reason("pm", for_administrator, "mine") == "Not administrator user");
  CHECK(reason("pm", for_management, "mine") == "allowed");
  CHECK(reason("pm", for_management, "/") == "User not authorised to access virtual host");
  CHECK(reason("mon", route_access{needs::management, vhost_rule::visible}, "/") == "allowed");
  CHECK(reason("m", route_access{needs::management, vhost_rule::none}, "/") == "allowed");
}

TEST_CASE("definitions: users, vhosts, permissions, topic permissions and limits in RabbitMQ 3.10's shape") {
  fixture f;
  f.user("alice", "management", "/");
  REQUIRE(f.status("PUT", "/api/vhosts/v2", json{{"description", "second"}}) == 201);
  REQUIRE(f.status("PUT", "/api/permissions/v2/alice", json{{"configure", ""}, {"write", "^w"}, {"read", ".*"}}) == 201);
  REQUIRE(f.status("PUT", "/api/topic-permissions/v2/alice",
                   json{{"exchange", "amq.topic"}, {"write", "^a"}, {"read", ""}}) == 201);
  REQUIRE(f.status("PUT", "/api/user-limits/alice/max-connections", json{{"value", 3}}) == 204);
  REQUIRE(f.status("PUT", "/api/vhost-limits/v2/max-queues", json{{"value", 5}}) == 204);
  json defs = f.get("/api/definitions");
  CHECK(defs["vhosts"] == json::array({json{{"name", "/"}}, json{{"name", "v2"}}}));
  json alice = defs["users"][0];
  CHECK(alice["name"] == "alice");
  CHECK(alice["limits"] == json{{"max-connections", 3}});
  CHECK(alice["hashing_algorithm"] == "rabbit_password_hashing_sha256");
  CHECK(defs["permissions"].size() == 4);  // alice and guest (the creator of v2) in / and v2
  CHECK(defs["topic_permissions"] ==
        json::array({json{{"user", "alice"}, {"vhost", "v2"}, {"exchange", "amq.topic"}, {"write", "^a"}, {"read", ""}}}));
  CHECK(defs["parameters"] == json::array({json{{"vhost", "v2"}, {"component", "vhost-limits"}, {"name", "limits"},
                                                {"value", {{"max-queues", 5}}}}}));
  json v2 = f.get("/api/definitions/v2");
  CHECK(v2["parameters"].size() == 1);
  CHECK_FALSE(v2.contains("users"));
  CHECK_FALSE(v2.contains("rabbitmq_version"));

  fixture fresh;
  reply r = fresh.call("POST", "/api/definitions", defs);
  REQUIRE_MESSAGE(r.status == 204, r.raw);
  json again = fresh.get("/api/definitions");
  for (const char* section : {"users", "vhosts", "permissions", "topic_permissions", "parameters"})
    CHECK_MESSAGE(again[section] == defs[section], section);
  CHECK(fresh.as("alice", "alice-pw", "GET", "/api/whoami").status == 200);  // the hash came along
  CHECK(fresh.status("POST", "/api/definitions", defs) == 204);              // twice is the same
}

TEST_CASE("definitions: a bad entry anywhere refuses the whole document, nothing applied") {
  fixture f;
  json good{{"users", {json{{"name", "new-user"}, {"password_hash", ""}, {"tags", "management"}}}},
            {"vhosts", {json{{"name", "new-vhost"}}}},
            {"permissions", {json{{"user", "new-user"}, {"vhost", "new-vhost"}, {"configure", ".*"},
                                  {"write", ".*"}, {"read", ".*"}}}},
            {"parameters", {json{{"vhost", "new-vhost"}, {"component", "vhost-limits"}, {"name", "limits"},
                                 {"value", {{"max-queues", 2}}}}}},
            {"queues", {json{{"name", "q1"}, {"vhost", "new-vhost"}, {"durable", true}}}},
            {"bindings", {json{{"source", "amq.direct"}, {"vhost", "new-vhost"}, {"destination", "q1"},
                               {"destination_type", "queue"}, {"routing_key", "k"}, {"arguments", json::object()}}}}};
  auto refused = [&](json doc, const json& reason = nullptr) {
    reply r = f.call("POST", "/api/definitions", doc);
    CHECK_MESSAGE(r.status == 400, r.raw);
    if (!reason.is_null()) CHECK(r.body["reason"] == reason);
    CHECK(f.b.access().find_user("new-user") == nullptr);
    CHECK(f.b.find_vhost("new-vhost") == nullptr);
  };
  auto with = [&](const char* section, const json& entry) {
    json doc = good;
    doc[section].push_back(entry);
    return doc;
  };
  refused(with("topic_permissions", json{{"user", "new-user"}, {"vhost", "new-vhost"}, {"exchange", "x"},
                                          {"write", "("}, {"read", ""}}));
  refused(with("permissions", json{{"user", "nobody"}, {"vhost", "/"}, {"configure", ""}, {"write", ""}, {"read", ""}}),
          json::array({"no_such_user", "nobody"}));
  refused(with("permissions", json{{"user", "guest"}, {"vhost", "nowhere"}, {"configure", ""}, {"write", ""},
                                   {"read", ""}}),
          json::array({"no_such_vhost", "nowhere"}));
  refused(with("users", json{{"name", "u2"}, {"password_hash", "AAAA"},
                             {"hashing_algorithm", "rabbit_password_hashing_sha3"}, {"tags", ""}}));
  refused(with("users", json{{"name", "u2"}, {"password_hash", ""}}), "tags_not_present");
  refused(with("parameters", json{{"vhost", "new-vhost"}, {"component", "federation-upstream"}, {"name", "x"},
                                  {"value", json::object()}}));
  refused(with("parameters", json{{"vhost", "new-vhost"}, {"component", "vhost-limits"}, {"name", "limits"},
                                  {"value", {{"max-queues", "x"}}}}));
  json crowded = with("queues", json{{"name", "q2"}, {"vhost", "new-vhost"}});
  crowded["queues"].push_back(json{{"name", "q3"}, {"vhost", "new-vhost"}});
  refused(crowded);  // three queues for max-queues 2
  refused(with("queues", json{{"name", "q3"}, {"vhost", "elsewhere"}}), json::array({"no_such_vhost", "elsewhere"}));
  refused(with("policies", json{{"name", "p"}}));
  refused(with("global_parameters", json{{"name", "cluster_name"}, {"value", "x"}}));

  json doc = good;
  doc["global_parameters"] = json::array({json{{"name", "internal_cluster_id"}, {"value", "rabbitmq-cluster-id-x"}}});
  reply r = f.call("POST", "/api/definitions", doc);
  REQUIRE_MESSAGE(r.status == 204, r.raw);
  vhost* v = f.b.find_vhost("new-vhost");
  REQUIRE(v != nullptr);
  CHECK(v->find_queue("q1") != nullptr);
  CHECK(v->settings().limits.max_queues == 2);
  CHECK(f.get("/api/permissions/new-vhost/guest")["configure"] == ".*");  // the importer, as RabbitMQ
  CHECK(f.b.access().find_user("new-user")->has_tag("management"));
}

TEST_CASE("definitions: a document over a vhost's queue limit is refused before any queue is declared") {
  fixture f;
  json doc{{"vhosts", {json{{"name", "small"}}}},
           {"parameters", {json{{"vhost", "small"}, {"component", "vhost-limits"}, {"name", "limits"},
                                {"value", {{"max-queues", 1}}}}}},
           {"queues", {json{{"name", "a"}, {"vhost", "small"}}, json{{"name", "b"}, {"vhost", "small"}}}}};
  CHECK(f.status("POST", "/api/definitions", doc) == 400);
  CHECK(f.b.find_vhost("small") == nullptr);
  doc["queues"].erase(1);
  CHECK(f.status("POST", "/api/definitions", doc) == 204);
}

TEST_CASE("definitions: users keep RabbitMQ hashes of any algorithm; later entries and re-imports merge limits") {
  fixture f;
  password_hash sha512 = hash_password_with_salt("p512", "abcd", hashing_algorithm::sha512);
  password_hash md5 = hash_password_with_salt("p-md5", "wxyz", hashing_algorithm::md5);
  json doc{{"users", {json{{"name", "u512"}, {"password_hash", sha512.base64()},
                           {"hashing_algorithm", "rabbit_password_hashing_sha512"}, {"tags", {"management"}},
                           {"limits", {{"max-channels", 4}}}},
                      json{{"name", "umd5"}, {"password_hash", md5.base64()},
                           {"hashing_algorithm", "rabbit_password_hashing_md5"}, {"tags", "management"}}}}};
  REQUIRE(f.status("POST", "/api/definitions", doc) == 204);
  CHECK(f.as("u512", "p512", "GET", "/api/whoami").status == 200);
  CHECK(f.as("umd5", "p-md5", "GET", "/api/whoami").status == 200);
  CHECK(f.get("/api/users/u512")["password_hash"] == sha512.base64());
  json again{{"users", {json{{"name", "u512"}, {"password_hash", sha512.base64()},
                             {"hashing_algorithm", "rabbit_password_hashing_sha512"}, {"tags", ""},
                             {"limits", {{"max-connections", 2}}}}}}};
  REQUIRE(f.status("POST", "/api/definitions", again) == 204);
  CHECK(f.get("/api/users/u512")["limits"] == json{{"max-channels", 4}, {"max-connections", 2}});
  CHECK(f.get("/api/users/u512")["tags"] == json::array());
}

TEST_CASE("definitions: a per-vhost import takes parameters and topology, ignores users and vhosts") {
  fixture f;
  REQUIRE(f.status("PUT", "/api/vhosts/v") == 201);
  json doc{{"users", {json{{"name", "ignored"}, {"password_hash", ""}, {"tags", ""}}}},
           {"parameters", {json{{"component", "vhost-limits"}, {"name", "limits"}, {"value", {{"max-queues", 9}}}}}},
           {"queues", {json{{"name", "q"}}}}};
  REQUIRE(f.status("POST", "/api/definitions/v", doc) == 204);
  CHECK(f.b.access().find_user("ignored") == nullptr);
  CHECK(f.b.find_vhost("v")->settings().limits.max_queues == 9);
  CHECK(f.b.find_vhost("v")->find_queue("q") != nullptr);
}

TEST_CASE("--load-definitions: a good file applies without granting anyone anything, a bad one is one line") {
  fixture f;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("roost-defs-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  std::string good = write("good.json", json{{"vhosts", {json{{"name", "boot"}}}},
                                             {"users", {json{{"name", "b"}, {"password_hash", ""}, {"tags", ""}}}}}
                                            .dump());
  CHECK_FALSE(load_definitions_file(f.b, good).has_value());
  CHECK(f.b.find_vhost("boot") != nullptr);
  CHECK(f.b.access().permissions("guest", "boot") == nullptr);
  auto error = load_definitions_file(f.b, write("bad.json", R"({"permissions": [{"user": "nobody", "vhost": "/",
      "configure": "", "write": "", "read": ""}], "vhosts": [{"name": "later"}]})"));
  REQUIRE(error.has_value());
  CHECK(error->find("no_such_user") != std::string::npos);
  CHECK(error->find('\n') == std::string::npos);
  CHECK(f.b.find_vhost("later") == nullptr);
  CHECK(load_definitions_file(f.b, write("broken.json", "{\"users\": [")).has_value());
  CHECK(load_definitions_file(f.b, (dir / "missing.json").string()).has_value());
  std::filesystem::remove_all(dir);
}
