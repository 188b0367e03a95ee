// The SQLite store: every operation survives close and reopen, and opening
// refuses anything that is not a healthy Roost file, leaving it untouched.
// Batching, coalescing and failures are in test_store_batching.cpp.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "storage/schema.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost::storage;
using namespace roost::storage::testing;

using fixture = store_fixture;

namespace {


template <class T>
bool contains(const std::vector<T>& items, const T& wanted) {
  return std::find(items.begin(), items.end(), wanted) != items.end();
}

binding_record to_queue(std::string source, std::string queue, std::string key) {
  return binding_record{"/", std::move(source), false, std::move(queue), std::move(key), ""};
}

std::string directory_listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

// Opens dir expecting a refusal; checks the directory is byte-for-byte as before.
std::string expect_refused(const temp_dir& dir, const std::filesystem::path& file) {
  std::string before = file_bytes(file), listing = directory_listing(dir.path());
  queued_poster poster;
  std::string error;
  auto s = open_sqlite_store(open_options{dir.str()}, poster.get(), error);
  CHECK(s == nullptr);
  CHECK(!error.empty());
  CHECK(error.find('\n') == std::string::npos);
  CHECK(file_bytes(file) == before);
  CHECK(directory_listing(dir.path()) == listing);
  return error;
}

}  // namespace

TEST_CASE("definitions survive a reopen") {
  fixture f;
  exchange_record logs{"/", "logs", "topic", false, false, std::string("\0\0\0\0", 4)};
  exchange_record alt{"v2", "alt", "fanout", true, true, ""};
  queue_record q1{1, "/", "q1", false, std::string("\0\0\0\x05\x01x", 6)};
  queue_record q7{7, "v2", "q7", true, ""};
  binding_record b1 = to_queue("logs", "q1", "a.*");
  binding_record e2e{"/", "logs", true, "alt", "#", ""};
  f.run({put_exchange{logs}, put_exchange{alt}, put_queue{q1}, put_queue{q7}, put_binding{b1}, put_binding{e2e}});
  logs.type = "direct";  // a put replaces the stored record
  f.run({put_exchange{logs}, delete_binding{e2e}});
  f.reopen();
  CHECK(f.state.exchanges.size() == 2);
  CHECK(contains(f.state.exchanges, logs));
  CHECK(contains(f.state.exchanges, alt));
  REQUIRE(f.state.queues.size() == 2);
  CHECK(f.queue(1)->queue == q1);
  CHECK(f.queue(7)->queue == q7);
  CHECK(f.queue(7)->entry_count == 0);
  CHECK(f.state.bindings == std::vector<binding_record>{b1});
  CHECK(f.state.max_queue_id == 7);
  CHECK(f.state.max_message_id == 0);
}

TEST_CASE("delete_exchange removes its bindings as source and as destination") {
  fixture f;
  binding_record from_x = to_queue("x", "q", "k");
  binding_record into_x{"/", "y", true, "x", "k", ""};
  binding_record other = to_queue("y", "q", "k");
  binding_record other_vhost{"v2", "x", false, "q", "k", ""};
  f.run({make_exchange("x", "direct"), make_exchange("y", "direct"), make_queue(1, "q"),
         put_binding{from_x}, put_binding{into_x}, put_binding{other}, put_binding{other_vhost}});
  f.run({delete_exchange{"/", "x"}});
  f.reopen();
  CHECK(f.state.exchanges == std::vector<exchange_record>{make_exchange("y", "direct").exchange});
  CHECK(f.state.bindings.size() == 2);
  CHECK(contains(f.state.bindings, other));
  CHECK(contains(f.state.bindings, other_vhost));
}

TEST_CASE("messages and entries survive a reopen and page back in seq order") {
  fixture f;
  std::vector<std::string> bodies{"one", "", std::string("\0\xff\0", 3), "four", std::string(70000, 'x')};
  std::vector<operation> ops{make_queue(3, "q")};
  for (std::uint64_t i = 0; i < bodies.size(); ++i) {
    ops.push_back(make_message(i + 1, bodies[i], "ex", numbered("key.", i)));
    ops.push_back(make_entry(3, 10 + i, i + 1));
  }
  f.run(std::move(ops));
  f.run({update_entry{entry_record{3, 11, 2, 4, true, 12345, 678}}});
  f.reopen();
  REQUIRE(f.queue(3) != nullptr);
  CHECK(f.queue(3)->entry_count == 5);
  CHECK(f.queue(3)->max_seq == 14);
  CHECK(f.state.max_message_id == 5);
  auto first = f.load(3, 0, 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].entry == entry_record{3, 10, 1, 0, false, 0, 0});
  CHECK(first[1].entry == entry_record{3, 11, 2, 4, true, 12345, 678});
  CHECK(first[1].body.empty());
  CHECK(first[0].routing_key == "key.0");
  CHECK(first[0].exchange == "ex");
  CHECK(first[0].properties == "\x80\x00\x02");
  auto rest = f.load(3, 11, 100);
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].body == bodies[2]);
  CHECK(rest[2].body == bodies[4]);
  CHECK(rest[2].entry.seq == 14);
  CHECK(f.load(3, 14).empty());
}

TEST_CASE("remove_entry deletes a message once no queue holds it") {
  fixture f;
  f.run({make_queue(1, "a"), make_queue(2, "b"), make_message(9, "shared"), make_entry(1, 1, 9),
         make_entry(2, 1, 9)});
  f.run({remove_entry{1, 1}});
  f.close();
  CHECK(count_rows(f.file(), "messages") == 1);
  f.open();
  CHECK(f.queue(1)->entry_count == 0);
  CHECK(f.load(2).at(0).body == "shared");
  f.run({remove_entry{2, 1}});
  f.close();
  CHECK(count_rows(f.file(), "messages") == 0);
  CHECK(count_rows(f.file(), "entries") == 0);
}

TEST_CASE("delete_queue removes its entries, bindings and orphaned messages only") {
  fixture f;
  f.run({make_exchange("x", "direct"), make_queue(1, "gone"), make_queue(2, "kept"),
         put_binding{to_queue("x", "gone", "k")}, put_binding{to_queue("x", "kept", "k")},
         make_message(1, "only in gone"), make_entry(1, 1, 1), make_message(2, "in both"), make_entry(1, 2, 2),
         make_entry(2, 1, 2)});
  f.run({delete_queue{1}});
  f.reopen();
  REQUIRE(f.state.queues.size() == 1);
  CHECK(f.state.queues[0].queue.name == "kept");
  CHECK(f.state.bindings == std::vector<binding_record>{to_queue("x", "kept", "k")});
  CHECK(f.load(2).at(0).body == "in both");
  f.close();
  CHECK(count_rows(f.file(), "messages") == 1);
  CHECK(count_rows(f.file(), "entries") == 1);
}

TEST_CASE("purge_queue empties a queue and keeps messages other queues hold") {
  fixture f;
  std::vector<operation> ops{make_queue(1, "a"), make_queue(2, "b")};
  for (std::uint64_t i = 1; i <= 100; ++i) {
    ops.push_back(make_message(i, numbered("m", i)));
    ops.push_back(make_entry(1, i, i));
    if (i % 10 == 0) ops.push_back(make_entry(2, i, i));
  }
  f.run(std::move(ops));
  f.run({purge_queue{1}});
  f.reopen();
  CHECK(f.queue(1)->entry_count == 0);
  CHECK(f.queue(2)->entry_count == 10);
  CHECK(f.load(2).size() == 10);
  f.close();
  CHECK(count_rows(f.file(), "messages") == 10);
}

TEST_CASE("priority lanes: each is summarised, loaded and purged as its own seq range") {
  fixture f;
  std::vector<operation> ops{make_queue(1, "q")};
  std::uint64_t id = 0;
  for (std::size_t lane : {0, 2, 5})
    for (std::uint64_t n = 1; n <= 3; ++n) {
      ++id;
      ops.push_back(make_message(id, numbered("m", id)));
      ops.push_back(make_entry(1, lane_base(lane) | id, id));
    }
  f.run(std::move(ops));
  f.reopen();
  const queue_summary* q = f.queue(1);
  REQUIRE(q != nullptr);
  CHECK(q->entry_count == 9);
  REQUIRE(q->lanes.size() == 3);
  CHECK(q->lanes[0].lane == 0);
  CHECK(q->lanes[0].entry_count == 3);
  CHECK(q->lanes[0].max_seq == 3);
  CHECK(q->lanes[1].lane == 2);
  CHECK(q->lanes[1].max_seq == (lane_base(2) | 6));
  CHECK(q->lanes[2].lane == 5);
  auto into = std::make_shared<std::vector<loaded_entry>>();
  f.run({load_entries{1, lane_base(2), 100, into, lane_base(3)}});
  REQUIRE(into->size() == 3);
  CHECK(into->front().body == "m4");
  CHECK(into->back().body == "m6");
  // Browsing from a position: skip passes over entries of the range, not of other lanes.
  load_entries skipping{1, lane_base(2), 100, into, lane_base(3)};
  skipping.skip = 2;
  f.run({skipping});
  REQUIRE(into->size() == 1);
  CHECK(into->front().body == "m6");
  skipping.skip = 3;
  f.run({skipping});
  CHECK(into->empty());
  f.run({purge_queue{1, lane_base(2) | 5, lane_base(3)}});
  f.reopen();
  CHECK(f.queue(1)->entry_count == 7);
  CHECK(f.queue(1)->lanes[1].entry_count == 1);
  CHECK(f.queue(1)->lanes[2].entry_count == 3);
}

TEST_CASE("redeclaring a name under a new id replaces the stale queue") {
  fixture f;
  f.run({make_queue(1, "q"), make_message(1, "old"), make_entry(1, 1, 1)});
  f.run({make_queue(2, "q")});
  f.reopen();
  REQUIRE(f.state.queues.size() == 1);
  CHECK(f.state.queues[0].queue.id == 2);
  CHECK(f.state.queues[0].entry_count == 0);
}

TEST_CASE("close commits everything pending and posts its completions") {
  fixture f;
  int ok = 0;
  f.s->submit({make_queue(1, "q")}, [&](bool r) { ok += r; });
  for (std::uint64_t i = 1; i <= 50; ++i)
    f.s->submit({make_message(i, "x"), make_entry(1, i, i)}, [&](bool r) { ok += r; });
  f.close();
  f.poster.drain();
  CHECK(ok == 51);
  f.open();
  CHECK(f.queue(1)->entry_count == 50);
  f.s->close();
  bool result = true;
  f.s->submit({purge_queue{1}}, [&](bool r) { result = r; });
  f.poster.drain();
  CHECK_FALSE(result);  // submitted after close: nothing written, reported as failed
}

TEST_CASE("committed writes survive a crash of the process") {
  temp_dir dir;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    queued_poster poster;
    std::string error;
    auto s = open_sqlite_store(open_options{dir.str()}, poster.get(), error);
    bool ok = s && submit_wait(*s, poster, {make_queue(4, "q"), make_message(1, "durable"), make_entry(4, 1, 1)});
    ::_exit(ok ? 0 : 1);  // no close(): the WAL is left as a crash leaves it
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(std::filesystem::exists(dir.path() / "roost.db-wal"));
  queued_poster poster;
  std::string error;
  auto s = open_sqlite_store(open_options{dir.str()}, poster.get(), error);
  REQUIRE_MESSAGE(s != nullptr, error);
  auto state = s->recover();
  REQUIRE(state.queues.size() == 1);
  CHECK(state.queues[0].entry_count == 1);
}

// ---- opening: schema and refusals ----

TEST_CASE("a new file is Roost's, at the latest schema version, WAL while open, one file once closed") {
  fixture f;
  f.run({make_queue(1, "q")});
  CHECK(std::filesystem::exists(f.dir.path() / "roost.db-wal"));
  f.close();
  CHECK(directory_listing(f.dir.path()) == "roost.db\n");
  sqlite::database db(f.file().string(), SQLITE_OPEN_READONLY);
  CHECK(db.query_int("PRAGMA application_id") == roost_application_id);
  CHECK(db.query_int("PRAGMA user_version") == latest_schema_version());
  CHECK(db.query_text("PRAGMA journal_mode") == "delete");
  for (const char* table : {"meta", "vhosts", "users", "permissions", "topic_permissions", "policies", "exchanges",
                            "queues", "bindings", "messages", "entries", "delayed", "delayed_targets"})
    CHECK_MESSAGE(db.query_int(std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") + table + "'") == 1,
                  table);
}

TEST_CASE("a file with a newer schema version is refused and left untouched") {
  fixture f;
  f.run({make_queue(1, "q")});
  f.close();
  {
    sqlite::database db(f.file().string(), SQLITE_OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  std::string error = expect_refused(f.dir, f.file());
  CHECK(error.find("newer") != std::string::npos);
}

// Found by fuzz_recovery: a patched user_version of -2147483645 made the
// migration index its step list from below.
TEST_CASE("a Roost file with a negative schema version is refused and left untouched") {
  fixture f;
  f.run({make_queue(1, "q")});
  f.close();
  {
    sqlite::database db(f.file().string(), SQLITE_OPEN_READWRITE);
    db.exec("PRAGMA user_version = -2147483645");
  }
  std::string error = expect_refused(f.dir, f.file());
  CHECK(error.find("schema version -2147483645, which no roost writes") != std::string::npos);
}

TEST_CASE("another application's SQLite file is refused and left untouched") {
  temp_dir dir;
  auto file = dir.path() / "roost.db";
  for (int app_id : {0, 42}) {
    std::filesystem::remove(file);
    {
      sqlite::database db(file.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      db.exec(numbered("PRAGMA application_id = ", app_id) + "; CREATE TABLE notes (text); INSERT INTO notes "
              "VALUES ('precious')");
    }
    std::string error = expect_refused(dir, file);
    CHECK(error.find("another application") != std::string::npos);
  }
}

TEST_CASE("a file that is not an SQLite database is refused and left untouched") {
  temp_dir dir;
  auto file = dir.path() / "roost.db";
  std::mt19937 random(7);
  std::string junk(10000, '\0');
  for (char& c : junk) c = static_cast<char>(random());
  std::ofstream(file, std::ios::binary) << junk;
  std::string error = expect_refused(dir, file);
  CHECK(error.find("not an SQLite database") != std::string::npos);
}

TEST_CASE("a corrupt Roost file is refused and left untouched") {
  fixture f;
  std::vector<operation> ops{make_queue(1, "q")};
  for (std::uint64_t i = 1; i <= 2000; ++i) {
    ops.push_back(make_message(i, "body"));
    ops.push_back(make_entry(1, i, i));
  }
  f.run(std::move(ops));
  f.close();
  std::int64_t root = 0, page_size = 0;
  {
    sqlite::database db(f.file().string(), SQLITE_OPEN_READONLY);
    root = db.query_int("SELECT rootpage FROM sqlite_schema WHERE name = 'entries'");
    page_size = db.query_int("PRAGMA page_size");
  }
  {
    // Scribble over the root page of the entries b-tree; the header stays valid.
    std::fstream out(f.file(), std::ios::binary | std::ios::in | std::ios::out);
    out.seekp((root - 1) * page_size);
    out << std::string(static_cast<std::size_t>(page_size), '\xa5');
  }
  std::string error = expect_refused(f.dir, f.file());
  CHECK(error.find("corrupt") != std::string::npos);
}

TEST_CASE("a data dir that cannot be created or written is refused") {
  temp_dir dir;
  std::ofstream(dir.path() / "plain-file") << "x";
  queued_poster poster;
  std::string error;
  auto s = open_sqlite_store(open_options{(dir.path() / "plain-file" / "sub").string()}, poster.get(), error);
  CHECK(s == nullptr);
  CHECK(error.find("cannot be created") != std::string::npos);

  auto locked = dir.path() / "read-only";
  std::filesystem::create_directory(locked);
  ::chmod(locked.c_str(), 0500);
  if (::access(locked.c_str(), W_OK) == 0) {
    MESSAGE("skipping the chmod 0500 case: this user (root?) can write there anyway");
  } else {
    s = open_sqlite_store(open_options{locked.string()}, poster.get(), error);
    CHECK(s == nullptr);
    CHECK(error.find("not writable") != std::string::npos);
    CHECK(std::filesystem::is_empty(locked));
  }
  ::chmod(locked.c_str(), 0700);
}

TEST_CASE("a second store on the same data dir is refused while the first is open") {
  fixture f;
  f.run({make_queue(1, "q")});
  queued_poster poster;
  std::string error;
  CHECK(open_sqlite_store(open_options{f.dir.str()}, poster.get(), error) == nullptr);
  CHECK(error.find("in use") != std::string::npos);
  f.run({make_queue(2, "r")});  // the first one is unaffected
}

TEST_CASE("a scratch store starts empty, replacing whatever file was there") {
  temp_dir dir;
  open_options options{dir.str(), "scratch.db"};
  options.scratch = true;
  std::ofstream(dir.path() / "scratch.db") << "not a database";
  std::ofstream(dir.path() / "scratch.db-wal") << "stale";
  queued_poster poster;
  for (int round = 0; round < 2; ++round) {
    std::string error;
    auto s = open_sqlite_store(options, poster.get(), error);
    REQUIRE_MESSAGE(s != nullptr, error);
    auto state = s->recover();
    CHECK(state.queues.empty());
    CHECK(state.max_message_id == 0);
    CHECK(submit_wait(*s, poster, {make_queue(1, "t"), make_message(1, "paged out"), make_entry(1, 1, 1)}));
    auto into = std::make_shared<std::vector<loaded_entry>>();
    CHECK(submit_wait(*s, poster, {load_entries{1, 0, 10, into}}));
    CHECK(into->size() == 1);
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "scratch.db-wal"));
}

// ---- delayed messages (schema step 2) ----

TEST_CASE("delayed messages survive a reopen in due order, with their target queues") {
  fixture f;
  f.run({make_queue(1, "a"), make_queue(2, "b"), make_message(7, "later", "dx", "k"),
         insert_delayed{delayed_record{7, 5000, {1, 2}}}, make_message(8, "sooner", "dx", "k"),
         insert_delayed{delayed_record{8, 1000, {2}}}});
  f.reopen();
  REQUIRE(f.state.delayed.size() == 2);
  CHECK(f.state.delayed[0].record == delayed_record{8, 1000, {2}});
  CHECK(f.state.delayed[0].body == "sooner");
  CHECK(f.state.delayed[1].record.due_at_ms == 5000);
  auto targets = f.state.delayed[1].record.queue_ids;
  std::sort(targets.begin(), targets.end());
  CHECK(targets == std::vector<std::uint64_t>{1, 2});
  CHECK(f.state.delayed[1].exchange == "dx");
  CHECK(f.state.max_message_id == 8);
  // A deleted queue leaves the delayed messages that targeted it.
  f.run({delete_queue{2}});
  f.reopen();
  REQUIRE(f.state.delayed.size() == 2);
  CHECK(f.state.delayed[0].record.queue_ids.empty());
  CHECK(f.state.delayed[1].record.queue_ids == std::vector<std::uint64_t>{1});
}

TEST_CASE("remove_delayed keeps a message its entries refer to, and deletes one without entries") {
  fixture f;
  f.run({make_queue(1, "a"), make_message(1, "due"), insert_delayed{delayed_record{1, 10, {1}}},
         make_message(2, "gone"), insert_delayed{delayed_record{2, 10, {}}}});
  f.run({make_entry(1, 1, 1), remove_delayed{1}, remove_delayed{2}});
  f.reopen();
  CHECK(f.state.delayed.empty());
  CHECK(f.load(1).at(0).body == "due");
  f.close();
  CHECK(count_rows(f.file(), "messages") == 1);
  CHECK(count_rows(f.file(), "delayed_targets") == 0);
}

TEST_CASE("a version-1 file is migrated to the latest schema, keeping its data") {
  temp_dir dir;
  auto file = dir.path() / "roost.db";
  {
    // What the first durable release wrote: no delayed tables, user_version 1.
    sqlite::database db = write_shipped_file(file, 1);
    db.exec("INSERT INTO queues VALUES (1, '/', 'q', 0, x'');"
            "INSERT INTO messages VALUES (1, 'amq.direct', 'rk', x'800002', CAST('kept' AS BLOB), 1);"
            "INSERT INTO entries VALUES (1, 1, 1, 0, 0, 0, 0)");
  }
  queued_poster poster;
  std::string error;
  auto s = open_sqlite_store(open_options{dir.str()}, poster.get(), error);
  REQUIRE_MESSAGE(s != nullptr, error);
  auto state = s->recover();
  REQUIRE(state.queues.size() == 1);
  CHECK(state.queues[0].queue == queue_record{1, "/", "q", false, ""});
  auto into = std::make_shared<std::vector<loaded_entry>>();
  REQUIRE(submit_wait(*s, poster, {load_entries{1, 0, 10, into}}));
  REQUIRE(into->size() == 1);
  CHECK(into->at(0).body == "kept");
  CHECK(submit_wait(*s, poster, {make_message(2, "held"), insert_delayed{delayed_record{2, 99, {1}}}}));
  s->close();
  sqlite::database db(file.string(), SQLITE_OPEN_READONLY);
  CHECK(db.query_int("PRAGMA user_version") == latest_schema_version());
  CHECK(db.query_int("SELECT count(*) FROM delayed") == 1);
}

TEST_CASE("a cluster's replication position commits with its batch and survives a reopen") {
  fixture f;
  f.reopen();
  CHECK(f.state.position == batch_position{});  // outside a cluster: none
  CHECK(f.state.epoch_starts.empty());
  f.run({put_queue{{1, "/", "q", false, ""}}, record_position{{5, 1}}});
  f.run({record_position{{5, 2}}});
  // A new leader's epoch begins where the old one's history ended.
  f.run({delete_queue{1}, record_position{{9, 3}}});
  f.run({record_position{{9, 4}}});
  f.reopen();
  CHECK(f.state.position == batch_position{9, 4});
  CHECK(f.state.epoch_starts == std::vector<batch_position>{{5, 1}, {9, 3}});
  CHECK(f.state.queues.empty());
}
