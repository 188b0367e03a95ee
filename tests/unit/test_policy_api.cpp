// /api/policies and /api/operator-policies as pure handlers, and the policy
// fields of queues and exchanges; statuses and bodies as RabbitMQ 3.10
// answers them (read off a real node).
#include <doctest/doctest.h>

#include "admin-ui/api.hpp"
#include "admin-ui/api_policies.hpp"
#include "broker/common/base64.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

using namespace roost;
using namespace roost::admin;
using nlohmann::json;

namespace {

struct api {
  broker b{config{}};
  admin_context ctx{b, {{"amqp", "127.0.0.1", 5672}, {"http", "127.0.0.1", 15672}}, "/nonexistent"};

  http_response as(const std::string& user, const std::string& method, const std::string& target,
                   const std::string& body = "") {
    http_request req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (!body.empty()) req.headers["content-type"] = "application/json";
    req.headers["authorization"] = "Basic " + base64_encode(user + ":" + (user == "guest" ? "guest" : user));
    return handle_request(req, ctx);
  }
  http_response call(const std::string& method, const std::string& target, const std::string& body = "") {
    return as("guest", method, target, body);
  }
  http_response put(const std::string& target, const json& body) { return call("PUT", target, body.dump()); }
  json get(const std::string& target) {
    auto r = call("GET", target);
    REQUIRE_MESSAGE(r.status == 200, target << ": " << r.status << " " << r.body);
    return json::parse(r.body);
  }
  vhost& root() { return *b.find_vhost("/"); }
};

json reason_of(const http_response& r) { return json::parse(r.body)["reason"]; }

}  // namespace

TEST_CASE("PUT creates (201), replaces (204); GET lists and shows; DELETE removes (204), then 404") {
  api a;
  json body{{"pattern", "^pol\\."}, {"definition", {{"message-ttl", 5000}}}, {"priority", 1}, {"apply-to", "queues"}};
  CHECK(a.put("/api/policies/%2F/p1", body).status == 201);
  CHECK(a.put("/api/policies/%2F/p1", body).status == 204);
  json expected{{"vhost", "/"},
                {"name", "p1"},
                {"pattern", "^pol\\."},
                {"apply-to", "queues"},
                {"definition", {{"message-ttl", 5000}}},
                {"priority", 1}};
  CHECK(a.get("/api/policies") == json::array({expected}));
  CHECK(a.get("/api/policies/%2F") == json::array({expected}));
  CHECK(a.get("/api/policies/%2F/p1") == expected);
  CHECK(a.get("/api/operator-policies") == json::array());
  CHECK(a.call("DELETE", "/api/policies/%2F/p1").status == 204);
  auto gone = a.call("DELETE", "/api/policies/%2F/p1");
  CHECK(gone.status == 404);
  CHECK(json::parse(gone.body) == json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  CHECK(a.call("GET", "/api/policies/%2F/p1").status == 404);
  CHECK(a.call("GET", "/api/policies/nov").status == 404);
  auto no_vhost = a.put("/api/policies/nov/x", body);
  CHECK(no_vhost.status == 404);
  CHECK(json::parse(no_vhost.body) == json{{"error", "not_found"}, {"reason", "vhost_not_found"}});
}

TEST_CASE("defaults: apply-to all, priority 0; extra fields are ignored as RabbitMQ ignores them") {
  api a;
  CHECK(a.put("/api/policies/%2F/v", json{{"pattern", "^v"}, {"definition", {{"max-length", 1}}}, {"vhost", "other"}})
            .status == 201);
  json p = a.get("/api/policies/%2F/v");
  CHECK(p["apply-to"] == "all");
  CHECK(p["priority"] == 0);
  CHECK(p["vhost"] == "/");
}

TEST_CASE("refusals: missing fields, validation texts HTML-escaped for policies and not for operator policies") {
  api a;
  auto r = a.put("/api/policies/%2F/v", json::object());
  CHECK(r.status == 400);
  CHECK(reason_of(r) == "[{key_missing,pattern},{key_missing,definition}]");
  CHECK(reason_of(a.put("/api/policies/%2F/v", json{{"pattern", "^v"}})) == "[{key_missing,definition}]");
  r = a.put("/api/policies/%2F/v", json{{"pattern", "^v"}, {"definition", {{"message-ttl", "abc"}}}});
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["error"] == "bad_request");
  CHECK(reason_of(r) == "Validation failed\n\n&lt;&lt;\"abc\"&gt;&gt; is not a valid message TTL\n");
  r = a.put("/api/operator-policies/%2F/v", json{{"pattern", "^v"}, {"definition", {{"message-ttl", "abc"}}}});
  CHECK(reason_of(r) == "Validation failed\n\n<<\"abc\">> is not a valid message TTL\n");
  r = a.put("/api/operator-policies/%2F/v", json{{"pattern", "^v"}, {"definition", {{"overflow", "reject-publish"}}}});
  CHECK(reason_of(r) ==
        "Validation failed\n\n[{<<\"overflow\">>,<<\"reject-publish\">>}] are not recognised policy settings\n");
  r = a.put("/api/policies/%2F/v", json{{"pattern", "^v"}, {"definition", {{"message-ttl", 1}}}, {"priority", "x"}});
  CHECK(reason_of(r) == "Validation failed\n\npriority should be a number, actually was &lt;&lt;\"x\"&gt;&gt;\n");
  CHECK(a.get("/api/policies") == json::array());
}

TEST_CASE("a policy and an operator policy may share a name") {
  api a;
  json body{{"pattern", "^o"}, {"definition", {{"message-ttl", 100}}}, {"apply-to", "queues"}};
  CHECK(a.put("/api/operator-policies/%2F/o", body).status == 201);
  CHECK(a.put("/api/policies/%2F/o", body).status == 201);
  CHECK(a.get("/api/operator-policies/%2F").size() == 1);
  CHECK(a.get("/api/policies/%2F").size() == 1);
  CHECK(a.call("DELETE", "/api/operator-policies/%2F/o").status == 204);
  CHECK(a.get("/api/policies/%2F/o")["name"] == "o");
}

TEST_CASE(
    "queues show policy, operator_policy and effective_policy_definition; exchanges show policy only when one "
    "applies") {
  api a;
  queue_options o;
  a.root().declare_queue("plain.q", o, false, 0);
  a.root().declare_queue("pol.q", o, false, 0);
  a.root().declare_exchange(exchange_spec{"pol.x", "direct", durability::transient, false, false, {}}, false);
  json plain = a.get("/api/queues/%2F/plain.q");
  CHECK(plain["policy"].is_null());
  CHECK(plain["operator_policy"].is_null());
  CHECK(plain["effective_policy_definition"] == json::object());
  a.put("/api/policies/%2F/p",
        json{{"pattern", "^pol\\."},
             {"definition", {{"message-ttl", 5000}, {"max-length", 10}, {"dead-letter-exchange", "dlx"}}},
             {"priority", 1}});
  a.put("/api/operator-policies/%2F/op",
        json{{"pattern", "^pol\\.q"},
             {"definition", {{"message-ttl", 3000}, {"max-length", 20}, {"expires", 100000}}},
             {"apply-to", "queues"}});
  json q = a.get("/api/queues/%2F/pol.q");
  CHECK(q["policy"] == "p");
  CHECK(q["operator_policy"] == "op");
  CHECK(q["effective_policy_definition"] ==
        json{{"dead-letter-exchange", "dlx"}, {"expires", 100000}, {"max-length", 10}, {"message-ttl", 3000}});
  json listed;
  for (const json& item : a.get("/api/queues/%2F"))
    if (item["name"] == "pol.q") listed = item;
  CHECK(listed["policy"] == "p");
  CHECK(a.get("/api/exchanges/%2F/pol.x")["policy"] == "p");
  CHECK_FALSE(a.get("/api/exchanges/%2F/amq.direct").contains("policy"));
}

TEST_CASE("definitions carry policies, and operator policies as parameters, both ways, in RabbitMQ 3.10.8's shape") {
  api a;
  json policy{{"vhost", "/"},     {"name", "d"},
              {"pattern", "^d"},  {"apply-to", "queues"},
              {"priority", 2},    {"definition", {{"max-length", 3}}}};
  json operator_policy{{"vhost", "/"},
                       {"component", "operator_policy"},
                       {"name", "op"},
                       {"value", {{"pattern", "^d"}, {"apply-to", "queues"}, {"priority", 0}, {"definition", {{"max-length", 1}}}}}};
  json queue{{"vhost", "/"}, {"name", "dq"}, {"durable", true}, {"auto_delete", false}, {"arguments", json::object()}};
  json doc{{"policies", {policy}}, {"parameters", {operator_policy}}, {"queues", {queue}}};
  REQUIRE(a.call("POST", "/api/definitions", doc.dump()).status == 204);
  CHECK(a.get("/api/policies/%2F/d") == policy);
  // Applied before the queues: the new queue has both.
  json q = a.get("/api/queues/%2F/dq");
  CHECK(q["policy"] == "d");
  CHECK(q["operator_policy"] == "op");
  json exported = a.get("/api/definitions");
  CHECK(exported["policies"] == json::array({policy}));
  CHECK(exported["parameters"] == json::array({operator_policy}));
  json per_vhost = a.get("/api/definitions/%2F");
  CHECK(per_vhost["policies"] == json::array({policy}));
  CHECK(per_vhost["parameters"] == json::array({operator_policy}));
  // One bad policy refuses the whole document, as a PUT would refuse it.
  json bad = doc;
  bad["policies"].push_back(policy);
  bad["policies"][1]["name"] = "e";
  bad["policies"][1]["definition"] = {{"max-length", -1}};
  bad["queues"][0]["name"] = "eq";
  CHECK(a.call("POST", "/api/definitions", bad.dump()).status == 400);
  CHECK(a.call("GET", "/api/policies/%2F/e").status == 404);
  CHECK(a.call("GET", "/api/queues/%2F/eq").status == 404);
}

TEST_CASE("who may do what, as RabbitMQ 3.10.8 answers: reading takes management, policies policymaker, operator policies administrator") {
  api a;
  for (const auto& [user, tag] : {std::pair{"pm", "policymaker"}, std::pair{"mg", "management"}}) {
    REQUIRE(a.put(std::string("/api/users/") + user, json{{"password", user}, {"tags", tag}}).status == 201);
    REQUIRE(a.put(std::string("/api/permissions/%2F/") + user, json{{"configure", ".*"}, {"write", ".*"}, {"read", ".*"}})
                .status == 201);
  }
  REQUIRE(a.put("/api/vhosts/other", json::object()).status == 201);
  json body{{"pattern", "^zz"}, {"definition", {{"max-length", 1}}}};
  REQUIRE(a.put("/api/policies/other/elsewhere", body).status == 201);
  REQUIRE(a.put("/api/operator-policies/%2F/op", body).status == 201);
  CHECK(a.as("pm", "PUT", "/api/policies/%2F/x", body.dump()).status == 201);
  CHECK(a.as("pm", "GET", "/api/policies/%2F/x").status == 200);
  CHECK(a.as("mg", "GET", "/api/policies/%2F/x").status == 401);  // one policy takes policymaker, even to read
  CHECK(a.as("mg", "GET", "/api/policies/%2F").status == 200);
  CHECK(a.as("pm", "DELETE", "/api/policies/%2F/x").status == 204);
  auto refused = a.as("mg", "PUT", "/api/policies/%2F/x", body.dump());
  CHECK(refused.status == 401);
  CHECK(json::parse(refused.body) == json{{"error", "not_authorised"}, {"reason", "User not authorised to access object"}});
  CHECK(a.as("mg", "DELETE", "/api/policies/other/elsewhere").status == 401);
  // A policymaker without permissions in the vhost may not change its policies.
  CHECK(a.as("pm", "PUT", "/api/policies/other/x", body.dump()).status == 401);
  for (const char* user : {"pm", "mg"}) {
    auto op = a.as(user, "PUT", "/api/operator-policies/%2F/x", body.dump());
    CHECK(op.status == 401);
    CHECK(json::parse(op.body)["reason"] == "Not administrator user");
    CHECK(a.as(user, "GET", "/api/operator-policies").status == 200);
    CHECK(a.as(user, "GET", "/api/operator-policies/%2F/op").status == 401);
    CHECK(a.as(user, "GET", "/api/policies/other").status == 401);
    // Lists show only the vhosts the user may use.
    auto listed = json::parse(a.as(user, "GET", "/api/policies").body);
    CHECK(listed.empty());
    CHECK(json::parse(a.as(user, "GET", "/api/operator-policies/%2F").body).size() == 1);
  }
  CHECK(a.get("/api/policies").size() == 1);  // guest, an administrator, sees every vhost
}
