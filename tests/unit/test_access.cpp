// Access control without a broker: RabbitMQ's password hashing (a hash made
// by RabbitMQ verifies here), constant-form verification, permission
// expressions (search, not full match; "" grants nothing but the empty
// name), topic permissions with variable expansion, and the login rules
// (wrong password, unknown user and loopback-only user all refused alike).
#include <doctest/doctest.h>

#include "broker/access/access_control.hpp"
#include "broker/access/password_hash.hpp"
#include "broker/access/permissions.hpp"

using namespace roost;

TEST_CASE("a password hash made by RabbitMQ verifies, and a wrong password does not") {
  // RabbitMQ's documented example: salt 90 8D C6 0A, password "test12", SHA-256.
  auto hash = password_hash::from_base64(hashing_algorithm::sha256, "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
  REQUIRE(hash.has_value());
  CHECK(verify_password(*hash, "test12"));
  CHECK_FALSE(verify_password(*hash, "test13"));
  CHECK_FALSE(verify_password(*hash, ""));
  const char salt[] = {'\x90', '\x8D', '\xC6', '\x0A'};
  CHECK(hash_password_with_salt("test12", std::string_view(salt, 4), hashing_algorithm::sha256).base64() ==
        "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
}

TEST_CASE("new hashes are salted at random, and every algorithm RabbitMQ exports verifies") {
  for (hashing_algorithm a : {hashing_algorithm::sha256, hashing_algorithm::sha512, hashing_algorithm::md5}) {
    password_hash one = hash_password("s3cret", a);
    password_hash two = hash_password("s3cret", a);
    CHECK(one.salted_digest != two.salted_digest);
    CHECK(verify_password(one, "s3cret"));
    CHECK_FALSE(verify_password(one, "s3cre"));
    auto back = password_hash::from_base64(a, one.base64());
    REQUIRE(back.has_value());
    CHECK(verify_password(*back, "s3cret"));
    CHECK(parse_hashing_algorithm(hashing_algorithm_name(a)) == a);
  }
  CHECK_FALSE(parse_hashing_algorithm("rabbit_password_hashing_sha1").has_value());
  // A digest of the wrong length for its algorithm, and text that is not base64.
  CHECK_FALSE(password_hash::from_base64(hashing_algorithm::sha512, hash_password("x").base64()).has_value());
  CHECK_FALSE(password_hash::from_base64(hashing_algorithm::sha256, "not base64!").has_value());
  // No password: nothing logs in, not even the empty password.
  auto none = password_hash::from_base64(hashing_algorithm::sha256, "");
  REQUIRE(none.has_value());
  CHECK_FALSE(verify_password(*none, ""));
}

TEST_CASE("permission expressions are searched, and the empty one matches only the empty name") {
  permission_set p("^amq\\.gen-", "orders|audit", "");
  CHECK(p.allows(access::configure, "amq.gen-abc"));
  CHECK_FALSE(p.allows(access::configure, "x.amq.gen-abc"));
  CHECK(p.allows(access::write, "new-orders"));  // a search, not a full match
  CHECK(p.allows(access::write, "audit"));
  CHECK_FALSE(p.allows(access::write, "billing"));
  CHECK_FALSE(p.allows(access::read, "anything"));
  // RabbitMQ reads "" as ^$. No resource is checked under the empty name (the
  // channel checks the default exchange as amq.default), so "" grants nothing.
  CHECK(p.allows(access::read, ""));
  CHECK_FALSE(p.allows(access::read, "amq.default"));
  CHECK(p.source(access::read).empty());
  CHECK(check_expression("(unclosed").has_value());
  CHECK_FALSE(check_expression("^[a-z]+$").has_value());
}

TEST_CASE("topic permissions expand {username} and {vhost}, and restrict only what they name") {
  topic_rules rules("^{username}\\.", "^{vhost}\\.", "alice", "prod");
  CHECK(rules.allows(access::write, "alice.orders"));
  CHECK_FALSE(rules.allows(access::write, "bob.orders"));
  CHECK(rules.allows(access::read, "prod.x"));
  CHECK_FALSE(rules.allows(access::read, "alice.x"));
  CHECK(rules.write_source() == "^{username}\\.");

  access_control ac;
  ac.put_user(user_account{"alice", hash_password("pw"), {}, {}});
  ac.set_topic_permissions("alice", "prod", "events", "^{username}\\.", ".*");
  CHECK(ac.topic_allows("alice", "prod", "events", access::write, "alice.created"));
  CHECK_FALSE(ac.topic_allows("alice", "prod", "events", access::write, "bob.created"));
  CHECK(ac.topic_allows("alice", "prod", "other", access::write, "bob.created"));  // no rules on that exchange
  CHECK(ac.topic_allows("alice", "dev", "events", access::write, "bob.created"));  // nor in that vhost
  ac.clear_topic_permissions("alice", "prod", "");
  CHECK(ac.topic_rules_for("alice", "prod", "events") == nullptr);
}

TEST_CASE("a refused login does not say why, and loopback users log in only from loopback") {
  access_control ac({"guest"});
  ac.put_user(user_account{"guest", hash_password("guest"), {"administrator"}, {}});
  ac.put_user(user_account{"app", hash_password("app-pw"), {}, {}});
  CHECK(ac.authenticate("guest", "guest", true) != nullptr);
  CHECK(ac.authenticate("guest", "guest", false) == nullptr);
  CHECK(ac.authenticate("app", "app-pw", false) != nullptr);
  CHECK(ac.authenticate("app", "wrong", false) == nullptr);
  CHECK(ac.authenticate("nobody", "app-pw", true) == nullptr);
  CHECK(ac.may_log_in_from("app", false));
  CHECK_FALSE(ac.may_log_in_from("guest", false));

  access_control anywhere(std::vector<std::string>{});  // an empty loopback_users list: guest from anywhere
  anywhere.put_user(user_account{"guest", hash_password("guest"), {}, {}});
  CHECK(anywhere.authenticate("guest", "guest", false) != nullptr);
}

TEST_CASE("a blank password never logs in, even against a hash of the empty string (as RabbitMQ)") {
  access_control ac(std::vector<std::string>{});
  ac.put_user(user_account{"blank", hash_password(""), {}, {}});
  ac.put_user(user_account{"none", password_hash{}, {}, {}});
  CHECK(ac.authenticate("blank", "", true) == nullptr);
  CHECK(ac.authenticate("none", "", true) == nullptr);
  CHECK(ac.authenticate("blank", "x", true) == nullptr);
}

TEST_CASE("every change moves the version, and deleting a user or a vhost drops its permissions") {
  access_control ac;
  ac.put_user(user_account{"u", hash_password("p"), {}, {}});
  std::uint64_t v0 = ac.version();
  ac.set_permissions("u", "/", permission_set(".*", ".*", ".*"));
  ac.set_permissions("u", "other", permission_set(".*", ".*", ".*"));
  CHECK(ac.version() > v0);
  CHECK(ac.allows("u", "/", access::write, "x"));
  std::uint64_t v1 = ac.version();
  ac.set_permissions("u", "/", permission_set(".*", "^$", ".*"));
  CHECK(ac.version() > v1);
  CHECK_FALSE(ac.allows("u", "/", access::write, "x"));
  ac.forget_vhost("/");
  CHECK(ac.permissions("u", "/") == nullptr);
  CHECK(ac.permissions("u", "other") != nullptr);
  ac.remove_user("u");
  CHECK(ac.find_user("u") == nullptr);
  CHECK(ac.permissions("u", "other") == nullptr);
}
