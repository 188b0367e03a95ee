// The store's access control and policies (schema step 3): users, vhosts,
// permissions, topic permissions and policies survive a reopen exactly,
// puts replace by key, delete_user and delete_vhost cascade as store.hpp
// says and no further, and a data dir from before step 3 upgrades intact.
#include <doctest/doctest.h>

#include <algorithm>

#include "storage/schema.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost::storage;
using namespace roost::storage::testing;

using fixture = store_fixture;

namespace {


// The same records, in any order (recovery promises no order).
template <class T>
bool same_records(const std::vector<T>& got, const std::vector<T>& wanted) {
  if (got.size() != wanted.size()) return false;
  for (const T& w : wanted)
    if (std::count(got.begin(), got.end(), w) != std::count(wanted.begin(), wanted.end(), w)) return false;
  return true;
}

user_record user(std::string name, std::string tags = "") {
  return user_record{std::move(name), "c2FsdGRpZ2VzdA==", "rabbit_password_hashing_sha256", std::move(tags),
                     std::nullopt, std::nullopt};
}

vhost_record vhost(std::string name) { return vhost_record{std::move(name), "", "", "classic", std::nullopt, std::nullopt}; }

permission_record permission(std::string user, std::string vhost, std::string configure = ".*") {
  return permission_record{std::move(user), std::move(vhost), std::move(configure), ".*", ".*"};
}

topic_permission_record topic(std::string user, std::string vhost, std::string exchange, std::string write = ".*") {
  return topic_permission_record{std::move(user), std::move(vhost), std::move(exchange), std::move(write), ".*"};
}

policy_record policy(std::string vhost, std::string name, bool operator_policy, std::int64_t priority = 0) {
  return policy_record{std::move(vhost), std::move(name), operator_policy, "^q\\.", "queues", priority,
                       std::string("\0\0\0\0", 4)};
}

}  // namespace

TEST_CASE("users, vhosts, permissions, topic permissions and policies survive a reopen exactly") {
  fixture f;
  CHECK(f.state.users.empty());  // a new data dir: the broker creates "/" and its first user
  CHECK(f.state.vhosts.empty());
  // Limits: both present, both absent, one of each; 0 is a limit, not "none".
  user_record admin{"admin", "c2FsdGRpZ2VzdA==", "rabbit_password_hashing_sha512", "administrator,monitoring", 10,
                    0};
  user_record no_password{"svc", "", "rabbit_password_hashing_sha256", "", std::nullopt, std::nullopt};
  user_record half{"Admin", "eA==", "rabbit_password_hashing_md5", "", std::nullopt, 64};  // names are byte-wise
  vhost_record root{"/", "the default", "", "classic", std::nullopt, std::nullopt};
  vhost_record limited{"prod/\xc3\xa9u", "Europe", "prod,eu", "quorum", 0, 1000};
  vhost_record half_vhost{"dev", "", "", "", 5, std::nullopt};
  permission_record p1{"admin", "/", ".*", ".*", ".*"};
  permission_record p2{"svc", "prod/\xc3\xa9u", "^$", "^amq\\.direct$", "^svc\\..*"};
  topic_permission_record t1{"svc", "prod/\xc3\xa9u", "amq.topic", "^orders\\.", ""};
  topic_permission_record t2{"svc", "prod/\xc3\xa9u", "events", "", "^public\\."};
  // A policy and an operator policy of the same name, both kept, each as written.
  policy_record normal{"/", "ha", false, "^ha\\.", "queues", 5, std::string("\0\0\0\x04\x01kt\x01", 8)};
  policy_record forced{"/", "ha", true, ".*", "all", -3, std::string("\0\0\0\0", 4)};
  policy_record exchanges{"dev", "alt", false, "", "exchanges", 0, ""};
  f.run({put_user{admin}, put_user{no_password}, put_user{half}, put_vhost{root}, put_vhost{limited},
         put_vhost{half_vhost}, put_permission{p1}, put_permission{p2}, put_topic_permission{t1},
         put_topic_permission{t2}, put_policy{normal}, put_policy{forced}, put_policy{exchanges}});
  f.reopen();
  CHECK(same_records(f.state.users, {admin, no_password, half}));
  CHECK(same_records(f.state.vhosts, {root, limited, half_vhost}));
  CHECK(same_records(f.state.permissions, {p1, p2}));
  CHECK(same_records(f.state.topic_permissions, {t1, t2}));
  CHECK(same_records(f.state.policies, {normal, forced, exchanges}));
  f.close();
  // Stored as NULL, not as 0 or -1, so another reader sees "no limit" too.
  CHECK(f.count("users WHERE max_connections IS NULL") == 2);
  CHECK(f.count("users WHERE max_channels = 0") == 1);
  CHECK(f.count("vhosts WHERE max_queues IS NULL") == 2);
}

TEST_CASE("a put replaces the record with the same key and leaves the others") {
  fixture f;
  user_record alice = user("alice");
  alice.max_connections = 3;
  f.run({put_user{alice}, put_user{user("bob")}, put_vhost{vhost("/")}, put_vhost{vhost("v2")},
         put_permission{permission("alice", "/")}, put_permission{permission("alice", "v2")},
         put_topic_permission{topic("alice", "/", "amq.topic")}, put_topic_permission{topic("alice", "/", "logs")},
         put_policy{policy("/", "p", false, 1)}, put_policy{policy("/", "p", true, 1)}});
  // Every field of each replaced record changes, including a limit going away.
  user_record alice2{"alice", "", "rabbit_password_hashing_sha512", "management", std::nullopt, 7};
  vhost_record v2{"v2", "renamed", "t", "quorum", 1, 2};
  permission_record narrowed{"alice", "/", "^$", "^x$", "^y$"};
  topic_permission_record logs{"alice", "/", "logs", "^a$", "^b$"};
  policy_record p{"/", "p", false, "^other$", "exchanges", 9, std::string("\0\0\0\0", 4)};
  f.run({put_user{alice2}, put_vhost{v2}, put_permission{narrowed}, put_topic_permission{logs}, put_policy{p}});
  f.reopen();
  CHECK(same_records(f.state.users, {alice2, user("bob")}));
  CHECK(same_records(f.state.vhosts, {vhost("/"), v2}));
  // Replacing a user or a vhost does not take their permissions with them.
  CHECK(same_records(f.state.permissions, {narrowed, permission("alice", "v2")}));
  CHECK(same_records(f.state.topic_permissions, {topic("alice", "/", "amq.topic"), logs}));
  CHECK(same_records(f.state.policies, {p, policy("/", "p", true, 1)}));
}

TEST_CASE("delete_permission, delete_topic_permission and delete_policy remove exactly their key") {
  fixture f;
  f.run({put_permission{permission("u", "/")}, put_permission{permission("u", "v2")},
         put_permission{permission("w", "/")}, put_topic_permission{topic("u", "/", "x")},
         put_topic_permission{topic("u", "/", "y")}, put_topic_permission{topic("u", "v2", "x")},
         put_policy{policy("/", "p", false)}, put_policy{policy("/", "p", true)}, put_policy{policy("v2", "p", true)}});
  f.run({delete_permission{"u", "/"}, delete_topic_permission{"u", "/", "x"}, delete_policy{"/", "p", true}});
  f.reopen();
  CHECK(same_records(f.state.permissions, {permission("u", "v2"), permission("w", "/")}));
  // Clearing a user's permissions in a vhost leaves their topic permissions there, as in RabbitMQ.
  CHECK(same_records(f.state.topic_permissions, {topic("u", "/", "y"), topic("u", "v2", "x")}));
  CHECK(same_records(f.state.policies, {policy("/", "p", false), policy("v2", "p", true)}));
}

TEST_CASE("delete_user removes the user's permissions and topic permissions, nothing of other users") {
  fixture f;
  f.run({put_user{user("alice")}, put_user{user("bob")}, put_vhost{vhost("/")}, put_vhost{vhost("v2")},
         put_permission{permission("alice", "/")}, put_permission{permission("alice", "v2")},
         put_permission{permission("bob", "/")}, put_topic_permission{topic("alice", "/", "x")},
         put_topic_permission{topic("alice", "v2", "y")}, put_topic_permission{topic("bob", "/", "x")},
         put_policy{policy("/", "alice", false)}});
  f.run({delete_user{"alice"}});
  f.reopen();
  CHECK(same_records(f.state.users, {user("bob")}));
  CHECK(same_records(f.state.permissions, {permission("bob", "/")}));
  CHECK(same_records(f.state.topic_permissions, {topic("bob", "/", "x")}));
  CHECK(same_records(f.state.vhosts, {vhost("/"), vhost("v2")}));
  CHECK(same_records(f.state.policies, {policy("/", "alice", false)}));
}

TEST_CASE("delete_vhost removes everything in the vhost and nothing in another") {
  fixture f;
  // Two vhosts with the same names inside them, so a statement that forgot
  // its vhost would take the other's rows too.
  std::vector<operation> ops{put_user{user("alice")}};
  for (std::string v : {"doomed", "kept"}) {
    ops.push_back(put_vhost{vhost(v)});
    ops.push_back(make_exchange("x", "topic", v));
    ops.push_back(make_exchange("y", "fanout", v));
    ops.push_back(put_binding{binding_record{v, "x", false, "q", "#", ""}});
    ops.push_back(put_binding{binding_record{v, "x", true, "y", "a.*", ""}});
    ops.push_back(put_permission{permission("alice", v)});
    ops.push_back(put_topic_permission{topic("alice", v, "x")});
    ops.push_back(put_policy{policy(v, "p", false)});
    ops.push_back(put_policy{policy(v, "p", true)});
  }
  // doomed: queues 1 ("q") and 2 ("r"); kept: queue 3 ("q").
  ops.push_back(make_queue(1, "q", "doomed"));
  ops.push_back(make_queue(2, "r", "doomed"));
  ops.push_back(make_queue(3, "q", "kept"));
  ops.push_back(make_message(10, "only in doomed"));
  ops.push_back(make_entry(1, 1, 10));
  ops.push_back(make_message(11, "in both doomed queues"));
  ops.push_back(make_entry(1, 2, 11));
  ops.push_back(make_entry(2, 1, 11));
  ops.push_back(make_message(12, "shared with kept"));
  ops.push_back(make_entry(1, 3, 12));
  ops.push_back(make_entry(3, 1, 12));
  ops.push_back(make_message(13, "only in kept"));
  ops.push_back(make_entry(3, 2, 13));
  // A delayed message routed to queues of both vhosts, and one to doomed only.
  ops.push_back(make_message(20, "delayed to both"));
  ops.push_back(insert_delayed{delayed_record{20, 5000, {1, 3}}});
  ops.push_back(make_message(21, "delayed to doomed"));
  ops.push_back(insert_delayed{delayed_record{21, 6000, {2}}});
  f.run(std::move(ops));
  f.run({delete_vhost{"doomed"}});
  f.reopen();

  CHECK(same_records(f.state.vhosts, {vhost("kept")}));
  CHECK(same_records(f.state.users, {user("alice")}));
  CHECK(same_records(f.state.exchanges, {make_exchange("x", "topic", "kept").exchange,
                                         make_exchange("y", "fanout", "kept").exchange}));
  CHECK(same_records(f.state.bindings, {binding_record{"kept", "x", false, "q", "#", ""},
                                        binding_record{"kept", "x", true, "y", "a.*", ""}}));
  CHECK(same_records(f.state.permissions, {permission("alice", "kept")}));
  CHECK(same_records(f.state.topic_permissions, {topic("alice", "kept", "x")}));
  CHECK(same_records(f.state.policies, {policy("kept", "p", false), policy("kept", "p", true)}));
  REQUIRE(f.state.queues.size() == 1);
  CHECK(f.state.queues[0].queue == make_queue(3, "q", "kept").queue);
  CHECK(f.state.queues[0].entry_count == 2);
  auto kept = f.load(3);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].body == "shared with kept");
  CHECK(kept[1].body == "only in kept");
  // Delayed messages lose their targets in the vhost, as with delete_queue;
  // one left with none is released (and forgotten) by the broker when due.
  REQUIRE(f.state.delayed.size() == 2);
  CHECK(f.state.delayed[0].record == delayed_record{20, 5000, {3}});
  CHECK(f.state.delayed[1].record == delayed_record{21, 6000, {}});
  f.close();
  CHECK(f.count("entries") == 2);
  CHECK(f.count("messages WHERE id IN (10, 11)") == 0);  // orphans of the doomed queues
  CHECK(f.count("messages") == 4);                       // 12, 13 and the two delayed ones
}

TEST_CASE("access-control operations pass the coalescer untouched, in submission order") {
  fixture f;
  auto* s = dynamic_cast<sqlite_store*>(f.s.get());
  REQUIRE(s != nullptr);
  // Pairs that look as if they cancel out, all in one batch: each must run, in order.
  f.run({put_user{user("a")}, put_permission{permission("a", "/")}, put_topic_permission{topic("a", "/", "x")},
         delete_user{"a"}, put_user{user("a", "second")}, put_policy{policy("/", "p", false)},
         delete_policy{"/", "p", false}, put_vhost{vhost("v")}, delete_vhost{"v"}, put_vhost{vhost("v")},
         put_permission{permission("a", "v")}, put_topic_permission{topic("a", "v", "x")},
         delete_topic_permission{"a", "v", "x"}, put_permission{permission("b", "/")}, delete_permission{"b", "/"}});
  CHECK(s->stats().coalesced == 0);
  f.reopen();
  CHECK(same_records(f.state.users, {user("a", "second")}));
  CHECK(same_records(f.state.vhosts, {vhost("v")}));
  CHECK(same_records(f.state.permissions, {permission("a", "v")}));
  CHECK(f.state.topic_permissions.empty());
  CHECK(f.state.policies.empty());
}

TEST_CASE("a queue's entries inserted in the batch that deletes its vhost leave nothing behind") {
  fixture f;
  f.run({put_vhost{vhost("v")}, make_queue(1, "q", "v"), make_message(1, "early"), make_entry(1, 1, 1)});
  f.run({make_message(2, "same batch"), make_entry(1, 2, 2), delete_vhost{"v"}, remove_entry{1, 2}});
  f.reopen();
  CHECK(f.state.queues.empty());
  CHECK(f.state.vhosts.empty());
  f.close();
  CHECK(f.count("messages") == 0);
  CHECK(f.count("entries") == 0);
}

// ---- schema step 3 on an older data dir ----

TEST_CASE("a version-2 data dir upgrades to step 3 with its content intact and the new tables empty") {
  fixture f(false);
  exchange_record x{"/", "logs", "topic", false, true, std::string("\0\0\0\0", 4)};
  queue_record q{4, "/", "jobs", false, std::string("\0\0\0\x05\x01x", 6)};
  {
    sqlite::database db = write_shipped_file(f.file(), 2);
    db.exec("INSERT INTO exchanges VALUES ('/', 'logs', 'topic', 0, 1, x'00000000');"
            "INSERT INTO queues VALUES (4, '/', 'jobs', 0, x'000000050178');"
            "INSERT INTO bindings VALUES ('/', 'logs', 0, 'jobs', 'a.#', x'');"
            "INSERT INTO messages VALUES (7, 'logs', 'a.b', x'8000', CAST('body' AS BLOB), 1);"
            "INSERT INTO entries VALUES (4, 1, 7, 2, 1, 0, 0);"
            "INSERT INTO messages VALUES (8, 'dx', 'k', x'', CAST('later' AS BLOB), 1);"
            "INSERT INTO delayed VALUES (8, 1234);"
            "INSERT INTO delayed_targets VALUES (8, 4)");
  }
  f.open();
  CHECK(f.state.exchanges == std::vector<exchange_record>{x});
  REQUIRE(f.state.queues.size() == 1);
  CHECK(f.state.queues[0].queue == q);
  CHECK(f.state.queues[0].entry_count == 1);
  CHECK(f.state.bindings == std::vector<binding_record>{binding_record{"/", "logs", false, "jobs", "a.#", ""}});
  REQUIRE(f.state.delayed.size() == 1);
  CHECK(f.state.delayed[0].record == delayed_record{8, 1234, {4}});
  CHECK(f.state.max_message_id == 8);
  // Nothing to recover yet: the broker will create "/" and its first user.
  CHECK(f.state.vhosts.empty());
  CHECK(f.state.users.empty());
  CHECK(f.state.permissions.empty());
  CHECK(f.state.topic_permissions.empty());
  CHECK(f.state.policies.empty());
  auto loaded = f.load(4);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].entry == entry_record{4, 1, 7, 2, true, 0, 0});
  CHECK(loaded[0].body == "body");
  // The new tables take writes.
  f.run({put_vhost{vhost("/")}, put_user{user("guest")}, put_permission{permission("guest", "/")}});
  f.reopen();
  CHECK(same_records(f.state.vhosts, {vhost("/")}));
  CHECK(same_records(f.state.users, {user("guest")}));
  CHECK(f.state.queues.size() == 1);
  f.close();
  sqlite::database db(f.file().string(), SQLITE_OPEN_READONLY);
  CHECK(db.query_int("PRAGMA user_version") == latest_schema_version());
}

TEST_CASE("an upgraded data dir has exactly the schema of a new one") {
  auto schema_of = [](const std::filesystem::path& file) {
    sqlite::database db(file.string(), SQLITE_OPEN_READONLY);
    auto rows = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
    std::string out;
    rows.each_row([&](sqlite::statement& r) {
      for (int i = 0; i < 4; ++i) out += r.column_bytes(i) + (i < 3 ? " | " : "\n");
    });
    return out;
  };
  fixture fresh;
  fresh.close();
  for (int version : {1, 2}) {
    CAPTURE(version);
    fixture upgraded(false);
    write_shipped_file(upgraded.file(), version);
    upgraded.open();
    upgraded.close();
    CHECK(schema_of(upgraded.file()) == schema_of(fresh.file()));
  }
}
