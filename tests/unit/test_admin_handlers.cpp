// Every admin API endpoint as a pure function of (request, broker state):
// requests go through handle_request against a broker with no sockets;
// AMQP clients are connection objects fed frames (protocol_test_support).
#include <doctest/doctest.h>

#include <algorithm>

#include "admin-ui/api.hpp"
#include "admin-ui/basic_auth.hpp"
#include "broker/common/base64.hpp"
#include "admin-ui/rates.hpp"
#include "amqp/frame.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "tests/unit/protocol_test_support.hpp"

using namespace roost;
using namespace roost::admin;
using namespace roost::test;
using nlohmann::json;

namespace {

struct api_fixture {
  broker b{config{}};
  admin_context ctx{b, {{"amqp", "127.0.0.1", 5672}, {"http", "127.0.0.1", 15672}}, "/nonexistent"};

  http_response call(const std::string& method, const std::string& target, const std::string& body = "",
                     bool auth = true) {
    http_request req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (!body.empty()) req.headers["content-type"] = "application/json";
    if (auth) req.headers["authorization"] = "Basic " + base64_encode("guest:guest");
    return handle_request(req, ctx);
  }
  json get(const std::string& target) {
    auto r = call("GET", target);
    REQUIRE_MESSAGE(r.status == 200, target << ": " << r.status << " " << r.body);
    return json::parse(r.body);
  }
  int status(const std::string& method, const std::string& target, const std::string& body = "") {
    return call(method, target, body).status;
  }
  vhost& root() { return *b.find_vhost("/"); }
  // Publishes through the API's default exchange.
  void publish(const std::string& queue, const std::string& payload) {
    auto r = call("POST", "/api/exchanges/%2F/amq.default/publish",
                  json{{"routing_key", queue}, {"payload", base64_encode(payload)}, {"payload_encoding", "base64"},
                       {"properties", json::object()}}.dump());
    REQUIRE(r.status == 200);
    REQUIRE(json::parse(r.body)["routed"] == true);
  }
};

// An AMQP client without a socket, logged in and with channel 1 open.
struct amqp_client {
  recorded_events events;
  connection c;

  amqp_client(broker& b, std::string peer) : c(b, events, std::move(peer), true) {
    for (const std::string& piece : guest_login(true)) feed(piece);
    feed(method_frame(1, amqp::channel_open{}));
    drain(c);
  }
  void feed(const std::string& bytes) { REQUIRE(c.consume(bytes) == bytes.size()); }
};

}  // namespace

TEST_CASE("auth: 401 with a challenge without credentials, with bad ones, and for remote guest") {
  api_fixture f;
  auto r = f.call("GET", "/api/overview", "", false);
  CHECK(r.status == 401);
  CHECK(r.body.empty());  // RabbitMQ answers a request without credentials with an empty 401
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "WWW-Authenticate");
  http_request req;
  req.method = "GET";
  req.target = "/api/overview";
  req.headers["authorization"] = "Basic " + base64_encode("guest:wrong");
  r = handle_request(req, f.ctx);
  CHECK(r.status == 401);
  CHECK(json::parse(r.body) == json{{"error", "not_authorized"}, {"reason", "Login failed"}});
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "WWW-Authenticate");
  req.headers["authorization"] = "Basic " + base64_encode("guest:guest");
  req.peer_is_loopback = false;
  CHECK(handle_request(req, f.ctx).status == 401);
  // Mutations need the header too: a cross-site form carries no Authorization.
  CHECK(f.call("PUT", "/api/queues/%2F/q", "{}", false).status == 401);
  CHECK(f.root().find_queue("q") == nullptr);
}

TEST_CASE("errors: unknown endpoint 404, wrong method 405 with Allow, bad path 400, all as JSON") {
  api_fixture f;
  auto r = f.call("GET", "/api/nothing-here");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body).contains("reason"));
  r = f.call("POST", "/api/overview");
  CHECK(r.status == 405);
  CHECK(r.headers.at(0) == std::pair<std::string, std::string>{"Allow", "GET"});
  CHECK(f.status("GET", "/api/queues/%2F/../x") == 400);
  CHECK(f.status("GET", "/api/queues/%ZZ") == 400);
  CHECK(f.status("GET", "/api/queues/nope") == 404);  // vhost does not exist
  CHECK(f.status("PUT", "/api/queues/nope/q", "{}") == 404);
  // Found by fuzz/http_api: a reason quoting bytes that are not UTF-8 threw while the body was written.
  r = f.call("GET", "/api/vhost\x95limits");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body)["reason"] == "no such endpoint: /api/vhost\xEF\xBF\xBDlimits");  // U+FFFD
  CHECK(f.status("GET", "/api/queues/%95") == 404);
}

TEST_CASE("overview and whoami") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  f.publish("q", "a");
  json o = f.get("/api/overview");
  CHECK(o["object_totals"]["queues"] == 1);
  CHECK(o["object_totals"]["exchanges"] == 6);
  CHECK(o["queue_totals"]["messages"] == 1);
  CHECK(o["queue_totals"]["messages_ready"] == 1);
  CHECK(o["message_stats"]["publish"] == 1);
  CHECK(o["message_stats"].contains("publish_details"));
  CHECK(o["listeners"].size() == 2);
  CHECK(o["listeners"][1]["protocol"] == "http");
  CHECK(o["product_name"] == "Roost");
  CHECK(o.contains("rabbitmq_version"));
  CHECK(f.get("/api/whoami")["name"] == "guest");
}

TEST_CASE("message rates: sampled counts become per-second rates") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  for (int i = 0; i < 4; ++i) f.publish("q", "m");
  sample_rates(f.b, 2.0);
  json stats = f.get("/api/overview")["message_stats"];
  CHECK(stats["publish"] == 4);
  CHECK(stats["publish_details"]["rate"] == 2.0);
  json q = f.get("/api/queues/%2F/q");
  CHECK(q["message_stats"]["publish_details"]["rate"] == 2.0);
  f.call("POST", "/api/queues/%2F/q/get", R"({"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})");
  sample_rates(f.b, 1.0);
  stats = f.get("/api/overview")["message_stats"];
  CHECK(stats["publish_details"]["rate"] == 0.0);
  CHECK(stats["get_details"]["rate"] == 1.0);
  CHECK(stats["ack_details"]["rate"] == 1.0);
  CHECK(stats["deliver_get"] == 1);
}

TEST_CASE("queues: declare (201, then 204), show, list, inequivalent redeclare is 409") {
  api_fixture f;
  CHECK(f.status("PUT", "/api/queues/%2F/orders", R"({"durable": true, "arguments": {"x-max-length": 5}})") == 201);
  CHECK(f.status("PUT", "/api/queues/%2F/orders", R"({"durable": "true", "arguments": {"x-max-length": 5}})") == 204);
  auto r = f.call("PUT", "/api/queues/%2F/orders", R"({"durable": false})");
  CHECK(r.status == 409);
  CHECK(json::parse(r.body)["reason"].get<std::string>().find("inequivalent arg 'durable'") != std::string::npos);
  json q = f.get("/api/queues/%2F/orders");
  CHECK(q["name"] == "orders");
  CHECK(q["vhost"] == "/");
  CHECK(q["durable"] == true);
  CHECK(q["auto_delete"] == false);
  CHECK(q["exclusive"] == false);
  CHECK(q["arguments"] == json{{"x-max-length", 5}});
  for (const char* field : {"messages", "messages_ready", "messages_unacknowledged", "consumers"}) CHECK(q[field] == 0);
  CHECK(q.contains("message_stats"));
  CHECK(f.get("/api/queues").size() == 1);
  CHECK(f.get("/api/queues/%2F").size() == 1);
  CHECK(f.status("GET", "/api/queues/%2F/missing") == 404);
}

TEST_CASE("queues: bad declarations change nothing") {
  api_fixture f;
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"durable": true, "colour": "red"})") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"durable": 1})") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"durable": tru)") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"arguments": []})") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"exclusive": true})") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"queue_type": "foo"})") == 409);  // 406 from the declare
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"queue_type": "stream", "arguments": {"x-queue-type": "classic"}})") ==
        400);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"queue_type": "stream", "durable": false})") == 409);
  CHECK(f.status("PUT", "/api/queues/%2F/q", R"({"name": "other"})") == 400);
  CHECK(f.status("PUT", "/api/queues/%2F/amq.q", "{}") == 403);
  http_request form;
  form.method = "PUT";
  form.target = "/api/queues/%2F/q";
  form.headers["authorization"] = "Basic " + base64_encode("guest:guest");
  form.headers["content-type"] = "application/x-www-form-urlencoded";
  form.body = "durable=true";
  CHECK(handle_request(form, f.ctx).status == 415);
  CHECK(f.root().queues().empty());
}

TEST_CASE("queues: delete with if-empty / if-unused, purge, 404 for missing ones") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  f.publish("q", "one");
  f.publish("q", "two");
  CHECK(f.status("DELETE", "/api/queues/%2F/q?if-empty=true") == 409);
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 2);
  CHECK(f.status("DELETE", "/api/queues/%2F/q/contents") == 204);
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 0);
  CHECK(f.status("DELETE", "/api/queues/%2F/q?if-empty=true&if-unused=true") == 204);
  CHECK(f.root().find_queue("q") == nullptr);
  CHECK(f.status("DELETE", "/api/queues/%2F/q") == 404);
  CHECK(f.status("DELETE", "/api/queues/%2F/q/contents") == 404);
}

TEST_CASE("queues: get with requeue keeps messages (redelivered), without removes them") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  f.publish("q", "first");
  f.publish("q", std::string("\xff\xfe", 2));
  auto r = f.call("POST", "/api/queues/%2F/q/get", R"({"count": 5, "ackmode": "ack_requeue_true", "encoding": "auto", "truncate": 3})");
  REQUIRE(r.status == 200);
  json got = json::parse(r.body);
  REQUIRE(got.size() == 2);
  CHECK(got[0]["payload"] == "fir");
  CHECK(got[0]["payload_bytes"] == 5);
  CHECK(got[0]["payload_encoding"] == "string");
  CHECK(got[0]["redelivered"] == false);
  CHECK(got[0]["routing_key"] == "q");
  CHECK(got[0]["exchange"] == "");
  CHECK(got[1]["payload_encoding"] == "base64");
  CHECK(got[1]["payload"] == "//4=");
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 2);
  got = json::parse(f.call("POST", "/api/queues/%2F/q/get", R"({"count": "1", "ackmode": "reject_requeue_false", "encoding": "base64"})").body);
  CHECK(got[0]["redelivered"] == true);
  CHECK(got[0]["payload"] == base64_encode("first"));
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 1);
  CHECK(f.status("POST", "/api/queues/%2F/q/get", R"({"count": 1, "ackmode": "maybe"})") == 400);
  CHECK(f.status("POST", "/api/queues/%2F/q/get", R"({"count": 0, "ackmode": "ack_requeue_true"})") == 400);
  CHECK(f.status("POST", "/api/queues/%2F/q/get", R"({"count": 1})") == 400);
  CHECK(f.status("POST", "/api/queues/%2F/missing/get", R"({"count": 1, "ackmode": "ack_requeue_true"})") == 404);
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 1);
}

TEST_CASE("exchanges: declare, show (amq.default), list, delete if-unused, bad types") {
  api_fixture f;
  CHECK(f.status("PUT", "/api/exchanges/%2F/logs", R"({"type": "topic", "durable": false})") == 201);
  CHECK(f.status("PUT", "/api/exchanges/%2F/logs", R"({"type": "topic", "durable": false})") == 204);
  CHECK(f.status("PUT", "/api/exchanges/%2F/logs", R"({"type": "fanout", "durable": false})") == 409);
  CHECK(f.status("PUT", "/api/exchanges/%2F/x", R"({"durable": false})") == 400);  // type is required
  CHECK(f.status("PUT", "/api/exchanges/%2F/x", R"({"type": "nonsense"})") == 400);
  CHECK(f.status("PUT", "/api/exchanges/%2F/x", R"({"type": "direct", "extra": 1})") == 400);
  CHECK(f.status("PUT", "/api/exchanges/%2F/amq.default", R"({"type": "direct"})") == 403);
  CHECK(f.root().find_exchange("x") == nullptr);
  json x = f.get("/api/exchanges/%2F/logs");
  CHECK(x["type"] == "topic");
  CHECK(x["durable"] == false);
  CHECK(x["internal"] == false);
  CHECK(f.get("/api/exchanges/%2F/amq.default")["name"] == "");
  CHECK(f.get("/api/exchanges/%2F").size() == 7);
  CHECK(f.get("/api/exchanges").size() == 7);
  f.status("PUT", "/api/queues/%2F/q", "{}");
  CHECK(f.status("POST", "/api/bindings/%2F/e/logs/q/q", R"({"routing_key": "a.*"})") == 201);
  CHECK(f.status("DELETE", "/api/exchanges/%2F/logs?if-unused=true") == 409);
  CHECK(f.status("DELETE", "/api/exchanges/%2F/logs") == 204);
  CHECK(f.status("DELETE", "/api/exchanges/%2F/logs") == 404);
  CHECK(f.status("DELETE", "/api/exchanges/%2F/amq.direct") == 403);
}

TEST_CASE("exchanges: publish routes like basic.publish and reports routed") {
  api_fixture f;
  f.status("PUT", "/api/exchanges/%2F/logs", R"({"type": "topic"})");
  f.status("PUT", "/api/queues/%2F/errors", "{}");
  f.status("POST", "/api/bindings/%2F/e/logs/q/errors", R"({"routing_key": "*.error"})");
  auto publish = [&](const std::string& key, const json& extra = json::object()) {
    json body{{"routing_key", key}, {"payload", "aGk="}, {"payload_encoding", "base64"}};
    body.update(extra);
    return f.call("POST", "/api/exchanges/%2F/logs/publish", body.dump());
  };
  auto r = publish("db.error", {{"properties", {{"content_type", "text/plain"}, {"headers", {{"h", 1}}}, {"delivery_mode", 2}}}});
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body) == json{{"routed", true}});
  CHECK(json::parse(publish("db.info").body) == json{{"routed", false}});
  json got = json::parse(f.call("POST", "/api/queues/%2F/errors/get", R"({"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})").body);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["payload"] == "hi");
  CHECK(got[0]["properties"]["content_type"] == "text/plain");
  CHECK(got[0]["properties"]["headers"] == json{{"h", 1}});
  CHECK(got[0]["properties"]["delivery_mode"] == 2);
  CHECK(publish("x", {{"payload_encoding", "rot13"}}).status == 400);
  CHECK(publish("x", {{"payload", "***"}}).status == 400);
  CHECK(publish("x", {{"properties", {{"colour", "red"}}}}).status == 400);
  CHECK(publish("x", {{"properties", {{"delivery_mode", "two"}}}}).status == 400);
  CHECK(f.status("POST", "/api/exchanges/%2F/missing/publish", R"({"routing_key": "k"})") == 404);
  CHECK(f.get("/api/overview")["message_stats"]["drop_unroutable"] == 1);
}

TEST_CASE("bindings: create with Location, show and delete by properties key, lists") {
  api_fixture f;
  f.status("PUT", "/api/exchanges/%2F/hdr", R"({"type": "headers"})");
  f.status("PUT", "/api/exchanges/%2F/fan", R"({"type": "fanout"})");
  f.status("PUT", "/api/queues/%2F/q", "{}");
  auto r = f.call("POST", "/api/bindings/%2F/e/amq.direct/q/q", R"({"routing_key": "a/b", "arguments": {}})");
  REQUIRE(r.status == 201);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "Location");
  CHECK(r.headers[0].second == "/api/bindings/%2F/e/amq.direct/q/q/a%252Fb");
  json b = f.get("/api/bindings/%2F/e/amq.direct/q/q/a%252Fb");
  CHECK(b["properties_key"] == "a%2Fb");
  CHECK(b["routing_key"] == "a/b");
  CHECK(b["destination_type"] == "queue");

  r = f.call("POST", "/api/bindings/%2F/e/hdr/q/q", R"({"arguments": {"x-match": "any", "k": 1}})");
  REQUIRE(r.status == 201);
  std::string location = r.headers[0].second;
  std::string key = location.substr(location.rfind('/') + 1);
  CHECK(key.starts_with("~"));
  CHECK(f.status("POST", "/api/bindings/%2F/e/hdr/q/q", R"({"arguments": {"x-match": "sometimes"}})") == 409);
  CHECK(f.status("POST", "/api/bindings/%2F/e/hdr/e/fan", R"({"routing_key": ""})") == 201);

  CHECK(f.get("/api/bindings/%2F/e/hdr/q/q").size() == 1);
  CHECK(f.get("/api/queues/%2F/q/bindings").size() == 3);  // default, amq.direct, hdr
  CHECK(f.get("/api/exchanges/%2F/hdr/bindings/source").size() == 2);
  CHECK(f.get("/api/exchanges/%2F/fan/bindings/destination").size() == 1);
  CHECK(f.get("/api/bindings/%2F").size() == 4);
  CHECK(f.get("/api/bindings").size() == 4);

  CHECK(f.status("DELETE", "/api/bindings/%2F/e/hdr/q/q/" + key) == 204);
  CHECK(f.status("DELETE", "/api/bindings/%2F/e/hdr/q/q/" + key) == 404);
  CHECK(f.status("DELETE", "/api/bindings/%2F/e/amq.direct/q/q/a%252Fb") == 204);
  CHECK(f.get("/api/queues/%2F/q/bindings").size() == 1);
  CHECK(f.status("POST", "/api/bindings/%2F/e/amq.direct/q/missing", "{}") == 404);
  CHECK(f.status("POST", "/api/bindings/%2F/e/missing/q/q", "{}") == 404);
  CHECK(f.status("POST", "/api/bindings/%2F/e/amq.direct/z/q", "{}") == 404);
  CHECK(f.status("POST", "/api/bindings/%2F/e/amq.direct/q/q", R"({"routing_key": 5})") == 400);
  CHECK(f.status("POST", "/api/bindings/%2F/e/amq.default/q/q", "{}") == 403);
}

// The answers are RabbitMQ 3.10.8's for the same paths (tests/integration/test_admin_api.py
// checks them against a node). Segments are as sent, so "%252A" reaches the handler as "%2A".
TEST_CASE("bindings: GET and DELETE find a binding by its raw or its listed key, quoted once") {
  api_fixture f;
  f.status("PUT", "/api/exchanges/%2F/bx", R"({"type": "topic"})");
  f.status("PUT", "/api/queues/%2F/bq", "{}");
  const std::string path = "/api/bindings/%2F/e/bx/q/bq";
  auto bind = [&](const std::string& key, const json& arguments = json::object()) {
    REQUIRE(f.status("POST", path, json{{"routing_key", key}, {"arguments", arguments}}.dump()) == 201);
  };
  // The routing key and arguments of the binding a segment names, or "404".
  auto found = [&](const std::string& segment) -> std::string {
    auto r = f.call("GET", path + "/" + segment);
    if (r.status == 404) return "404";
    REQUIRE_MESSAGE(r.status == 200, segment << ": " << r.status << " " << r.body);
    json b = json::parse(r.body);
    return b["routing_key"].get<std::string>() + (b["arguments"].empty() ? "" : " " + b["arguments"].dump());
  };
  for (const char* key : {"a.*", "*", "%2A", "a b", "a+b", "a~b", "", "k"}) bind(key);
  bind("k", {{"x", 1}});
  std::string hash;
  for (const json& b : f.get(path))
    if (!b["arguments"].empty()) hash = b["properties_key"].get<std::string>().substr(2);
  REQUIRE(hash.size() == 16);

  CHECK(found("a.%2A") == "a.*");      // rabbitmqadmin: the raw key quoted once
  CHECK(found("a.%252A") == "a.*");    // the dashboard: the listed key "a.%2A" quoted once
  CHECK(found("a.*") == "a.*");        // the raw key as it is
  CHECK(found("a.%25252A") == "404");  // quoted twice is one time too many
  CHECK(found("%2A") == "*");
  CHECK(found("%25252A") == "%2A");    // listed "%252A", quoted once
  CHECK(found("a%20b") == "a b");
  CHECK(found("a+b") == "a b");
  CHECK(found("a%2Bb") == "a b");      // '+' decoded once is still read as a space
  CHECK(found("a%252Bb") == "a+b");
  CHECK(found("a%257Eb") == "a~b");    // listed "a%7Eb", quoted once
  CHECK(found("a~b") == "404");        // key "a" with arguments hash "b"
  CHECK(found("a%7Eb") == "404");      // the same after the router's decoding
  CHECK(found("~") == "");
  CHECK(found("%7E") == "");
  CHECK(found("k") == "k");
  CHECK(found("k~" + hash) == R"(k {"x":1})");
  CHECK(found("k%7E" + hash) == R"(k {"x":1})");
  CHECK(found("k~" + hash + "~") == R"(k {"x":1})");
  CHECK(found("k%257E" + hash) == "404");
  CHECK(found("k~" + hash + "~x") == "404");
  CHECK(found("k~~") == "404");

  CHECK(f.status("DELETE", path + "/a.%2A") == 204);
  CHECK(f.status("DELETE", path + "/a.%252A") == 404);
  CHECK(f.status("DELETE", path + "/a%2Bb") == 204);
  CHECK(f.status("DELETE", path + "/a%252Bb") == 204);
  CHECK(f.status("DELETE", path + "/a%257Eb") == 204);
  CHECK(f.status("DELETE", path + "/k%7E" + hash) == 204);
  CHECK(f.status("DELETE", path + "/~") == 204);
  std::vector<std::string> left;
  for (const json& b : f.get(path)) left.push_back(b["routing_key"]);
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"%2A", "*", "k"});

  // The default exchange's implicit binding has a properties key made the same way.
  f.status("PUT", "/api/queues/%2F/q%20a~b*", "{}");
  json implicit = f.get("/api/bindings/%2F/e/amq.default/q/q%20a~b*");
  REQUIRE(implicit.size() == 1);
  CHECK(implicit[0]["properties_key"] == "q+a%7Eb%2A");
  CHECK(f.get("/api/bindings/%2F/e/amq.default/q/q%20a~b*/q%2Ba%257Eb%252A")["routing_key"] == "q a~b*");
}

TEST_CASE("connections, channels, consumers; DELETE closes a connection with 320") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  amqp_client client(f.b, "127.0.0.1:40000");
  amqp::basic_consume consume;
  consume.queue = "q";
  consume.consumer_tag = "tag-1";
  client.feed(method_frame(1, consume));
  f.publish("q", "to the consumer");
  drain(client.c);

  json conns = f.get("/api/connections");
  REQUIRE(conns.size() == 1);
  std::string name = conns[0]["name"];
  CHECK(name == "127.0.0.1:40000 -> 127.0.0.1:5672");
  CHECK(conns[0]["user"] == "guest");
  CHECK(conns[0]["vhost"] == "/");
  CHECK(conns[0]["channels"] == 1);
  CHECK(conns[0]["state"] == "running");
  json channels = f.get("/api/channels");
  REQUIRE(channels.size() == 1);
  CHECK(channels[0]["name"] == name + " (1)");
  CHECK(channels[0]["consumer_count"] == 1);
  CHECK(channels[0]["messages_unacknowledged"] == 1);
  json consumers = f.get("/api/consumers/%2F");
  REQUIRE(consumers.size() == 1);
  CHECK(consumers[0]["consumer_tag"] == "tag-1");
  CHECK(consumers[0]["queue"]["name"] == "q");
  CHECK(consumers[0]["ack_required"] == true);
  json q = f.get("/api/queues/%2F/q");
  CHECK(q["messages_unacknowledged"] == 1);
  CHECK(q["messages"] == 1);
  CHECK(q["consumers"] == 1);
  CHECK(f.get("/api/connections/" + percent_encode(name) + "/channels").size() == 1);
  CHECK(f.get("/api/connections/" + percent_encode(name))["channel_max"] == 2047);
  CHECK(f.get("/api/vhosts/%2F/connections").size() == 1);
  CHECK(f.get("/api/vhosts/%2F/channels").size() == 1);
  CHECK(f.get("/api/channels/" + percent_encode(name + " (1)"))["number"] == 1);
  CHECK(f.status("GET", "/api/channels/nothing") == 404);
  CHECK(f.get("/api/consumers").size() == 1);
  CHECK(f.status("GET", "/api/consumers/elsewhere") == 404);

  CHECK(f.status("DELETE", "/api/connections/nobody") == 404);
  CHECK(f.status("DELETE", "/api/connections/" + percent_encode(name)) == 204);
  auto frames = drain(client.c);
  REQUIRE_FALSE(frames.empty());
  REQUIRE(frames.back().method_key() == amqp::connection_close::id.key());
  auto close = frames.back().method<amqp::connection_close>();
  CHECK(close.reply_code == 320);
  CHECK(close.reply_text == "CONNECTION_FORCED - Closed via management plugin");
  // The unacked message went back to the queue when the connection closed.
  CHECK(f.get("/api/queues/%2F/q")["messages_ready"] == 1);
}

TEST_CASE("vhosts, users, permissions, health checks") {
  api_fixture f;
  CHECK(f.get("/api/vhosts")[0]["name"] == "/");
  CHECK(f.get("/api/vhosts/%2F")["name"] == "/");
  CHECK(f.status("GET", "/api/vhosts/other") == 404);
  CHECK(f.get("/api/users")[0]["name"] == "guest");
  CHECK(f.get("/api/users/guest")["tags"][0] == "administrator");
  CHECK(f.status("GET", "/api/users/nobody") == 404);
  CHECK(f.get("/api/permissions")[0]["vhost"] == "/");
  CHECK(f.get("/api/health/checks/alarms") == json{{"status", "ok"}});
  CHECK(f.get("/api/health/checks/virtual-hosts") == json{{"status", "ok"}});
  CHECK(f.get("/api/health/checks/port-listener/5672") == json{{"status", "ok"}});
  auto r = f.call("GET", "/api/health/checks/port-listener/1234");
  CHECK(r.status == 503);
  CHECK(json::parse(r.body)["status"] == "failed");
}

TEST_CASE("definitions: export, import into a fresh broker gives the same topology") {
  api_fixture f;
  f.status("PUT", "/api/exchanges/%2F/logs", R"({"type": "topic", "arguments": {"alternate-exchange": "amq.fanout"}})");
  f.status("PUT", "/api/exchanges/%2F/fan", R"({"type": "fanout", "durable": false, "auto_delete": true})");
  f.status("PUT", "/api/queues/%2F/q1", R"({"arguments": {"x-message-ttl": 1000}})");
  f.status("PUT", "/api/queues/%2F/q2", R"({"durable": false})");
  f.status("POST", "/api/bindings/%2F/e/logs/q/q1", R"({"routing_key": "a.#"})");
  f.status("POST", "/api/bindings/%2F/e/logs/e/fan", R"({"routing_key": "b"})");
  f.status("POST", "/api/bindings/%2F/e/fan/q/q2", "{}");
  json defs = f.get("/api/definitions");
  CHECK(defs["queues"].size() == 2);
  CHECK(defs["exchanges"].size() == 2);  // no default or amq.* exchanges
  CHECK(defs["bindings"].size() == 3);
  CHECK(defs["vhosts"] == json::array({json{{"name", "/"}}}));
  CHECK(defs["bindings"][0].contains("vhost"));

  api_fixture fresh;
  auto r = fresh.call("POST", "/api/definitions", defs.dump());
  REQUIRE_MESSAGE(r.status == 204, r.body);
  json again = fresh.get("/api/definitions");
  CHECK(again["queues"] == defs["queues"]);
  CHECK(again["exchanges"] == defs["exchanges"]);
  CHECK(again["bindings"] == defs["bindings"]);
  // Importing twice is a no-op.
  CHECK(fresh.call("POST", "/api/definitions", defs.dump()).status == 204);
  // The per-vhost form has no vhost fields and imports the same way.
  json vhost_defs = f.get("/api/definitions/%2F");
  CHECK_FALSE(vhost_defs["queues"][0].contains("vhost"));
  api_fixture third;
  CHECK(third.call("POST", "/api/definitions/%2F", vhost_defs.dump()).status == 204);
  CHECK(third.get("/api/definitions")["bindings"] == defs["bindings"]);
}

TEST_CASE("definitions: a bad document is refused as a whole, nothing applied") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/existing", R"({"durable": true})");
  auto doc = [](json queues, json extra = json::object()) {
    json d{{"queues", std::move(queues)},
           {"exchanges", json::array({json{{"name", "new-x"}, {"vhost", "/"}, {"type", "direct"}}})}};
    d.update(extra);
    return d.dump();
  };
  json good_queue{{"name", "new-q"}, {"vhost", "/"}, {"durable", true}};
  auto refused = [&](const std::string& body) {
    int status = f.call("POST", "/api/definitions", body).status;
    CHECK(f.root().find_exchange("new-x") == nullptr);
    CHECK(f.root().find_queue("new-q") == nullptr);
    return status;
  };
  CHECK(refused(doc({good_queue, json{{"name", "existing"}, {"vhost", "/"}, {"durable", false}}})) == 409);
  CHECK(refused(doc({good_queue, json{{"name", "q"}, {"vhost", "elsewhere"}}})) == 400);
  CHECK(refused(doc({good_queue, json{{"name", "q"}, {"vhost", "/"}, {"colour", 1}}})) == 400);
  CHECK(refused(doc({good_queue, json{{"name", "amq.q"}, {"vhost", "/"}}})) == 403);
  CHECK(refused(doc({good_queue}, {{"bindings", json::array({json{{"source", "nowhere"}, {"vhost", "/"},
      {"destination", "new-q"}, {"destination_type", "queue"}, {"routing_key", ""}, {"arguments", json::object()}}})}})) == 400);
  CHECK(refused(doc({good_queue}, {{"policies", json::array({json{{"name", "p"}}})}})) == 400);
  CHECK(refused(doc({good_queue}, {{"surprise", 1}})) == 400);
  CHECK(refused(doc({good_queue}, {{"users", json::array({json{{"name", "bob"}}})}})) == 400);
  CHECK(refused(doc(json{{"not", "a list"}})) == 400);
  CHECK(refused("{\"queues\": [") == 400);
  CHECK(f.call("POST", "/api/definitions", doc({good_queue})).status == 204);
  CHECK(f.root().find_queue("new-q") != nullptr);
}

TEST_CASE("/metrics: Prometheus text with RabbitMQ's names, per queue") {
  api_fixture f;
  f.status("PUT", "/api/queues/%2F/q", "{}");
  f.publish("q", "a");
  f.publish("q", "b");
  auto r = f.call("GET", "/metrics", "", false);
  REQUIRE(r.status == 200);
  CHECK(r.content_type.starts_with("text/plain; version=0.0.4"));
  CHECK(r.body.find("rabbitmq_queue_messages_ready{vhost=\"/\",queue=\"q\"} 2\n") != std::string::npos);
  CHECK(r.body.find("rabbitmq_queue_messages_unacked{vhost=\"/\",queue=\"q\"} 0\n") != std::string::npos);
  CHECK(r.body.find("rabbitmq_connections 0\n") != std::string::npos);
  CHECK(r.body.find("rabbitmq_queues 1\n") != std::string::npos);
  CHECK(r.body.find("rabbitmq_global_messages_received_total 2\n") != std::string::npos);
  CHECK(r.body.find("# TYPE rabbitmq_queue_messages_ready gauge\n") != std::string::npos);
  CHECK(f.call("POST", "/metrics", "", false).status == 405);
}

TEST_CASE("list endpoints paginate, sort and filter") {
  api_fixture f;
  for (const char* name : {"b", "a", "c", "ab"}) f.status("PUT", std::string("/api/queues/%2F/") + name, "{}");
  f.publish("c", "x");
  json page = f.get("/api/queues/%2F?page=1&page_size=2&sort=name&name=a");
  CHECK(page["filtered_count"] == 2);
  CHECK(page["total_count"] == 4);
  CHECK(page["items"][0]["name"] == "a");
  json sorted = f.get("/api/queues?sort=messages&sort_reverse=true&columns=name,messages");
  CHECK(sorted[0] == json{{"name", "c"}, {"messages", 1}});
  CHECK(f.status("GET", "/api/queues?page_size=1000&page=1") == 400);
}
