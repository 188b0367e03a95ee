// etcd's JSON gateway messages: the bodies sent, every shape of answer read
// (etcd 3.4's own output, captured), and the endpoint list.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cluster/etcd_client.hpp"
#include "cluster/etcd_messages.hpp"

namespace etcd = roost::cluster::etcd;
using nlohmann::json;

TEST_CASE("keys and values are sent base64-encoded, numbers as strings") {
  json put = json::parse(etcd::put_body("/roost/a/nodes/n1", "{\"id\":\"n1\"}", 7587868));
  CHECK(put["key"] == "L3Jvb3N0L2Evbm9kZXMvbjE=");
  CHECK(put["value"] == "eyJpZCI6Im4xIn0=");
  CHECK(put["lease"] == "7587868");
  CHECK_FALSE(json::parse(etcd::put_body("k", "v", 0)).contains("lease"));
  CHECK(json::parse(etcd::lease_grant_body(5))["TTL"] == "5");
  CHECK(json::parse(etcd::lease_keepalive_body(-3))["ID"] == "-3");
}

TEST_CASE("an election is a transaction on the key's create revision") {
  json txn = json::parse(etcd::create_if_absent_body("/roost/c/leader", "me", 42));
  REQUIRE(txn["compare"].size() == 1);
  CHECK(txn["compare"][0]["target"] == "CREATE");
  CHECK(txn["compare"][0]["create_revision"] == "0");
  CHECK(txn["success"][0]["request_put"]["lease"] == "42");
  CHECK(txn["failure"][0]["request_range"]["key"] == txn["compare"][0]["key"]);
  json held = json::parse(etcd::put_if_held_body("/roost/c/isr", "[]", "/roost/c/leader", 17));
  CHECK(held["compare"][0]["create_revision"] == "17");
  CHECK_FALSE(held["success"][0]["request_put"].contains("lease"));
}

TEST_CASE("an election open to in-sync replicas also compares the list's mod revision") {
  json txn = json::parse(etcd::create_if_absent_unless_changed_body("/roost/c/leader", "me", 42, "/roost/c/isr", 99));
  REQUIRE(txn["compare"].size() == 2);
  CHECK(txn["compare"][0]["target"] == "CREATE");
  CHECK(txn["compare"][1]["target"] == "MOD");
  CHECK(txn["compare"][1]["mod_revision"] == "99");
  CHECK(txn["compare"][1]["key"] == "L3Jvb3N0L2MvaXNy");
  CHECK(txn["success"][0]["request_put"]["lease"] == "42");
}

TEST_CASE("a prefix scan ends at the prefix's successor") {
  CHECK(etcd::prefix_end("/roost/c/nodes/") == "/roost/c/nodes0");
  CHECK(etcd::prefix_end(std::string("a\xff", 2)) == "b");
  CHECK(etcd::prefix_end(std::string("\xff", 1)) == std::string(1, '\0'));
  json range = json::parse(etcd::range_prefix_body("/x/"));
  CHECK(range["range_end"] == "L3gw");
}

TEST_CASE("answers as etcd 3.4 writes them") {
  auto grant = etcd::parse_lease_grant(
      R"({"header":{"cluster_id":"3","member_id":"3","revision":"1","raft_term":"2"},"ID":"2324035868361167365","TTL":"5"})");
  CHECK(grant.id == 2324035868361167365);
  CHECK(grant.ttl_seconds == 5);

  // Won: the put ran.
  auto won = etcd::parse_txn(
      R"({"header":{"revision":"2","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]})");
  CHECK(won.succeeded);
  CHECK(won.revision == 2);
  CHECK(won.range.empty());

  // Lost: "succeeded" is left out (false), the range says who holds the key.
  auto lost = etcd::parse_txn(
      R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"L3Jvb3N0L3QvbGVhZGVy","create_revision":"2","mod_revision":"2","version":"1","value":"bm9kZTE=","lease":"2324035868361167367"}],"count":"1"}}]})");
  CHECK_FALSE(lost.succeeded);
  REQUIRE(lost.range.size() == 1);
  CHECK(lost.range[0].key == "/roost/t/leader");
  CHECK(lost.range[0].value == "node1");
  CHECK(lost.range[0].create_revision == 2);
  CHECK(lost.range[0].lease == 2324035868361167367);

  CHECK(etcd::parse_keepalive(R"({"result":{"header":{"revision":"2"},"ID":"7","TTL":"5"}})"
                              "\n") == 5);
  // An expired or unknown lease: TTL left out.
  CHECK(etcd::parse_keepalive(R"({"result":{"header":{"revision":"3"},"ID":"7"}})") == 0);
  CHECK(etcd::parse_range(R"({"header":{"revision":"3"}})").empty());
}

TEST_CASE("errors and malformed answers are bad answers, with etcd's message") {
  CHECK_THROWS_WITH_AS(etcd::parse_lease_grant(
                           R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})"),
                       "etcdserver: requested lease not found", etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_txn("not json"), etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_txn("[1]"), etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_txn(R"({"succeeded":"yes"})"), etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_txn(R"({"responses":[{"response_range":{"kvs":[{"key":"@@@@"}]}}]})"), etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_txn(R"({"responses":[{"response_range":{"kvs":[{"key":"YQ==","lease":"12x"}]}}]})"),
                  etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_lease_grant(R"({"ID":"0","TTL":"5"})"), etcd::bad_answer);
  CHECK_THROWS_AS(etcd::parse_range(R"({"kvs":{}})"), etcd::bad_answer);
}

TEST_CASE("etcd endpoints: http://HOST:PORT, comma-separated") {
  std::vector<roost::cluster::etcd_endpoint> out;
  CHECK_FALSE(roost::cluster::parse_etcd_endpoints("http://127.0.0.1:2379,etcd2:2379/", out));
  REQUIRE(out.size() == 2);
  CHECK(out[0] == roost::cluster::etcd_endpoint{"127.0.0.1", "2379"});
  CHECK(out[1] == roost::cluster::etcd_endpoint{"etcd2", "2379"});
  for (const char* bad : {"", "https://h:1", "h", "h:", ":1", "h:123456", "h:12a", "http://h:1/v3"})
    CHECK_MESSAGE(roost::cluster::parse_etcd_endpoints(bad, out).has_value(), bad);
}
