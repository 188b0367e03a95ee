// Helpers for the store's unit tests (header-only, not part of the
// library): a temporary data dir, a poster that queues functions until the
// test drains them (so a test sees exactly what ran on "the broker
// thread"), a way to build message operations that own their bytes, and
// the data dir an older release left behind.
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace roost::storage::testing {

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "roost-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Stands in for asio::post: functions wait in a queue until drain().
class queued_poster {
 public:
  poster get() {
    return [this](std::function<void()> f) {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(f));
    };
  }
  std::size_t queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }
  // Runs what was posted so far, on the calling thread; returns how many.
  std::size_t drain() {
    std::deque<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex_);
      ready.swap(queue_);
    }
    for (auto& f : ready) f();
    return ready.size();
  }
  // Drains until done() holds; false after 20 s.
  template <class predicate>
  bool drain_until(predicate done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (drain() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
};

// Submits and waits for the completion; returns its ok (false on timeout).
inline bool submit_wait(store& s, queued_poster& p, std::vector<operation> ops) {
  int result = -1;
  s.submit(std::move(ops), [&result](bool ok) { result = ok ? 1 : 0; });
  return p.drain_until([&] { return result >= 0; }) && result == 1;
}

// An insert_message whose views point into memory it owns.
inline insert_message make_message(std::uint64_t id, std::string body, std::string exchange = "amq.direct",
                                   std::string routing_key = "rk", std::string properties = "\x80\x00\x02") {
  struct owned {
    std::string exchange, routing_key, properties, body;
  };
  auto o = std::make_shared<owned>(owned{std::move(exchange), std::move(routing_key), std::move(properties),
                                         std::move(body)});
  return insert_message{message_content{id, o, o->exchange, o->routing_key, o->properties, o->body}};
}

inline insert_entry make_entry(std::uint64_t queue_id, std::uint64_t seq, std::uint64_t message_id) {
  return insert_entry{entry_record{queue_id, seq, message_id, 0, false, 0, 0}};
}

inline put_queue make_queue(std::uint64_t id, std::string name, std::string vhost = "/") {
  return put_queue{queue_record{id, std::move(vhost), std::move(name), false, ""}};
}

inline put_exchange make_exchange(std::string name, std::string type, std::string vhost = "/") {
  return put_exchange{exchange_record{std::move(vhost), std::move(name), std::move(type), false, false, ""}};
}

// prefix + n, built by appending: GCC 12 warns falsely (-Wrestrict at -O3)
// about "literal" + std::to_string(n).
inline std::string numbered(std::string prefix, std::uint64_t n) {
  prefix += std::to_string(n);
  return prefix;
}

inline std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Schema steps 1 and 2 exactly as they shipped (copied from schema.cpp,
// never to be updated): the files older releases left behind, for the
// upgrade tests. A test compares an upgraded file's schema with a fresh
// one, so an edit to a shipped step in schema.cpp shows up there.
inline constexpr const char* shipped_step_1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE vhosts (name TEXT PRIMARY KEY, metadata BLOB NOT NULL DEFAULT x'') WITHOUT ROWID;
CREATE TABLE users (
  name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, tags TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE permissions (
  user TEXT NOT NULL, vhost TEXT NOT NULL,
  configure TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost)
) WITHOUT ROWID;
CREATE TABLE exchanges (
  vhost TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
  auto_delete INTEGER NOT NULL, internal INTEGER NOT NULL, arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, name)
) WITHOUT ROWID;
CREATE TABLE queues (
  id INTEGER PRIMARY KEY, vhost TEXT NOT NULL, name TEXT NOT NULL,
  auto_delete INTEGER NOT NULL, arguments BLOB NOT NULL,
  UNIQUE (vhost, name)
);
CREATE TABLE bindings (
  vhost TEXT NOT NULL, source TEXT NOT NULL, to_exchange INTEGER NOT NULL, destination TEXT NOT NULL,
  routing_key TEXT NOT NULL, arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, source, to_exchange, destination, routing_key, arguments)
) WITHOUT ROWID;
CREATE INDEX bindings_destination ON bindings (vhost, to_exchange, destination);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY, exchange TEXT NOT NULL, routing_key TEXT NOT NULL,
  properties BLOB NOT NULL, body BLOB NOT NULL,
  persistent INTEGER NOT NULL  -- 0: a transient message paged out of memory; dropped at recovery
);
CREATE TABLE entries (
  queue_id INTEGER NOT NULL, seq INTEGER NOT NULL, message_id INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL, delivered INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL, ready_at_ms INTEGER NOT NULL,
  PRIMARY KEY (queue_id, seq)
) WITHOUT ROWID;
CREATE INDEX entries_message ON entries (message_id);
-- Finds transient paged messages at recovery without reading every body.
CREATE INDEX messages_transient ON messages (id) WHERE persistent = 0;
)sql";

inline constexpr const char* shipped_step_2 = R"sql(
CREATE TABLE delayed (message_id INTEGER PRIMARY KEY, due_at_ms INTEGER NOT NULL);
CREATE INDEX delayed_due ON delayed (due_at_ms);
CREATE TABLE delayed_targets (
  message_id INTEGER NOT NULL, queue_id INTEGER NOT NULL,
  PRIMARY KEY (message_id, queue_id)
) WITHOUT ROWID;
CREATE INDEX delayed_targets_queue ON delayed_targets (queue_id);
)sql";

// Creates `file` as a release at schema `version` (1 or 2) left it: its
// tables, empty, application_id and user_version set. Returns the open
// connection so the test can add rows by hand.
inline sqlite::database write_shipped_file(const std::filesystem::path& file, int version) {
  sqlite::database db(file.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.exec(shipped_step_1);
  if (version >= 2) db.exec(shipped_step_2);
  db.exec("PRAGMA application_id = " + std::to_string(roost_application_id));
  db.exec("PRAGMA user_version = " + std::to_string(version));
  return db;
}

inline std::int64_t count_rows(const std::filesystem::path& db_file, const std::string& table) {
  sqlite::database db(db_file.string(), SQLITE_OPEN_READONLY);
  return db.query_int("SELECT count(*) FROM " + table);
}

// A store over a temp dir that a test can close and reopen; `state` is
// what the latest open recovered.
struct store_fixture {
  temp_dir dir;
  queued_poster poster;
  std::unique_ptr<store> s;
  recovered_state state;

  explicit store_fixture(bool open_now = true) {
    if (open_now) open();
  }
  std::filesystem::path file() const { return dir.path() / "roost.db"; }
  void open() {
    std::string error;
    s = open_sqlite_store(open_options{dir.str()}, poster.get(), error);
    REQUIRE_MESSAGE(s != nullptr, error);
    state = s->recover();
  }
  void close() {
    s->close();
    s.reset();
  }
  void reopen() {
    close();
    open();
  }
  void run(std::vector<operation> ops) { REQUIRE(submit_wait(*s, poster, std::move(ops))); }
  std::vector<loaded_entry> load(std::uint64_t queue_id, std::uint64_t after = 0, std::size_t limit = 100) {
    auto into = std::make_shared<std::vector<loaded_entry>>();
    run({load_entries{queue_id, after, limit, into}});
    return *into;
  }
  const queue_summary* queue(std::uint64_t id) const {
    for (const auto& q : state.queues)
      if (q.queue.id == id) return &q;
    return nullptr;
  }
  // Rows of "table [WHERE ...]", read from the closed file.
  std::int64_t count(const std::string& rows) {
    sqlite::database db(file().string(), SQLITE_OPEN_READONLY);
    return db.query_int("SELECT count(*) FROM " + rows);
  }
};

}  // namespace roost::storage::testing
