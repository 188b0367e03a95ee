// A stream's chunks in the store (storage/stream_chunk, stream_chunk_table):
// the blob round-trips every field, a damaged blob is refused where the
// damage starts; the appends of one commit to one stream become one row,
// cut at segment starts, at another seq and at the size bound; loads start
// anywhere inside a chunk and keep to their limits; purges remove whole
// chunks; recovery counts them; and a schema-5 file's stream entries move
// into chunks on upgrade.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/stream_chunk.hpp"
#include "tests/unit/store_test_support.hpp"

using namespace roost::storage;
using namespace roost::storage::testing;

namespace {

// An append_stream whose content owns its bytes.
append_stream make_append(std::uint64_t queue_id, std::uint64_t seq, std::string body, std::int64_t at_ms = 1000) {
  insert_message m = make_message(0, std::move(body), "", "st", std::string("\x80\x00\x02", 3));
  return append_stream{queue_id, seq, at_ms, m.content};
}

std::vector<operation> appends(std::uint64_t queue_id, std::uint64_t first_seq, std::uint64_t count) {
  std::vector<operation> ops;
  for (std::uint64_t seq = first_seq; seq < first_seq + count; ++seq)
    ops.push_back(make_append(queue_id, seq, numbered("m", seq), static_cast<std::int64_t>(1000 + seq)));
  return ops;
}

std::vector<std::string> bodies(const std::vector<loaded_entry>& entries) {
  std::vector<std::string> out;
  for (const loaded_entry& e : entries) out.push_back(e.body);
  return out;
}

std::vector<std::string> expected(std::uint64_t from_seq, std::uint64_t to_seq) {
  std::vector<std::string> out;
  for (std::uint64_t seq = from_seq; seq < to_seq; ++seq) out.push_back(numbered("m", seq));
  return out;
}

std::vector<loaded_entry> load_stream(store_fixture& f, std::uint64_t after, std::size_t limit,
                                      std::uint64_t max_bytes = 0) {
  auto into = std::make_shared<std::vector<loaded_entry>>();
  load_entries load{1, after, limit, into};
  load.max_bytes = max_bytes;
  load.stream = true;
  f.run({load});
  return *into;
}

struct stream_store : store_fixture {
  stream_store() { run({make_queue(1, "st")}); }
};

}  // namespace

TEST_CASE("a chunk's bytes give back every message, field for field, and refuse a cut") {
  std::string chunk;
  chunk_message a{-5, "amq.direct", "rk", std::string_view("\x80\x00\x02", 3), std::string_view("nul\0body", 8)};
  chunk_message b{1700000000000, "", "", "", ""};
  append_to_chunk(chunk, a);
  append_to_chunk(chunk, b);
  chunk_reader reader(chunk);
  CHECK(reader.next() == a);
  CHECK(reader.next() == b);
  CHECK_FALSE(reader.next());
  for (std::size_t cut : {std::size_t{1}, std::size_t{8}, std::size_t{13}, chunk.size() - 1}) {
    chunk_reader damaged(std::string_view(chunk).substr(0, cut));
    auto read_all = [&] {
      while (damaged.next()) {
      }
    };
    CHECK_THROWS_AS(read_all(), bad_chunk);
  }
}

TEST_CASE("one commit's appends to a stream are one row, read back from anywhere inside it") {
  stream_store f;
  f.run(appends(1, 1, 100));
  f.run(appends(1, 101, 50));
  CHECK(bodies(load_stream(f, 0, 1000)) == expected(1, 151));
  CHECK(bodies(load_stream(f, 40, 5)) == expected(41, 46));
  CHECK(bodies(load_stream(f, 99, 3)) == expected(100, 103));  // across the two rows
  std::vector<loaded_entry> one = load_stream(f, 120, 1);
  REQUIRE(one.size() == 1);
  CHECK(one[0].entry.seq == 121);
  CHECK(one[0].entry.appended_at_ms == 1121);
  CHECK(one[0].routing_key == "st");
  CHECK(one[0].properties == std::string("\x80\x00\x02", 3));
  // A byte budget stops after the message that reaches it ("m1" to "m5": 10 bytes).
  CHECK(bodies(load_stream(f, 0, 1000, 9)) == expected(1, 6));
  f.close();
  CHECK(f.count("stream_chunks") == 2);
  CHECK(f.count("entries") == 0);
  CHECK(f.count("messages") == 0);
}

TEST_CASE("a chunk is cut at a segment start and where the seqs do not follow on") {
  stream_store f;
  std::vector<operation> ops = appends(1, 1, 10);
  ops.insert(ops.begin() + 5, start_segment{1, 6});
  ops.insert(ops.begin(), start_segment{1, 1});
  std::vector<operation> gap = appends(1, 20, 2);  // a seq that does not follow: a new row
  ops.insert(ops.end(), gap.begin(), gap.end());
  f.run(std::move(ops));
  f.reopen();
  const queue_summary* q = f.queue(1);
  REQUIRE(q != nullptr);
  CHECK(q->entry_count == 12);
  CHECK(q->max_seq == 21);
  REQUIRE(q->segments.size() == 2);
  CHECK(q->segments[0].entry_count == 5);
  CHECK(q->segments[1].entry_count == 7);  // 6 to 10, and the two after the gap
  f.close();
  CHECK(f.count("stream_chunks") == 3);
}

TEST_CASE("purging a stream's head removes its whole chunks, and recovery counts the rest") {
  stream_store f;
  std::vector<operation> first = appends(1, 1, 10);
  first.insert(first.begin(), start_segment{1, 1});
  f.run(std::move(first));
  std::vector<operation> second = appends(1, 11, 10);
  second.insert(second.begin(), start_segment{1, 11});
  f.run(std::move(second));
  f.run({purge_queue{1, 0, 11}});
  CHECK(bodies(load_stream(f, 0, 100)) == expected(11, 21));
  f.reopen();
  const queue_summary* q = f.queue(1);
  REQUIRE(q != nullptr);
  CHECK(q->entry_count == 10);
  CHECK(q->body_bytes == 10 * 3);
  REQUIRE(q->segments.size() == 1);
  CHECK(q->segments[0].first_seq == 11);
  CHECK(q->segments[0].first_appended_at_ms == 1011);
  CHECK(q->segments[0].last_appended_at_ms == 1020);
  f.run({delete_queue{1}});
  f.close();
  CHECK(f.count("stream_chunks") == 0);
}

TEST_CASE("a failed commit leaves no chunk behind for the next one") {
  stream_store f;
  // The same seq twice in one submission after a flush: the second row collides and the batch fails.
  std::vector<operation> bad = appends(1, 1, 3);
  bad.push_back(purge_queue{1, 100, 200});  // writes the pending chunk
  std::vector<operation> again = appends(1, 1, 1);
  bad.insert(bad.end(), again.begin(), again.end());
  CHECK_FALSE(submit_wait(*f.s, f.poster, std::move(bad)));
  f.run(appends(1, 1, 2));
  CHECK(bodies(load_stream(f, 0, 100)) == expected(1, 3));
}

TEST_CASE("a damaged chunk is read up to the damage") {
  stream_store f;
  f.run(appends(1, 1, 5));
  f.close();
  {
    sqlite::database db(f.file().string(), SQLITE_OPEN_READWRITE);
    db.exec("UPDATE stream_chunks SET data = substr(data, 1, length(data) - 2)");
  }
  f.open();
  CHECK(bodies(load_stream(f, 0, 100)) == expected(1, 5));
}

TEST_CASE("a schema-5 file's stream entries move into chunks, cut at its segments") {
  store_fixture f;
  f.close();
  {
    // What step 5 left: a stream's messages as entries and messages rows.
    sqlite::database db(f.file().string(), SQLITE_OPEN_READWRITE);
    db.exec("DROP TABLE stream_chunks; PRAGMA user_version = 5");
    db.exec("INSERT INTO queues VALUES (1, '/', 'st', 0, x''); INSERT INTO queues VALUES (2, '/', 'q', 0, x'');"
            "INSERT INTO stream_segments VALUES (1, 1), (1, 3);"
            "INSERT INTO messages VALUES (9, 'amq.direct', 'q', x'800002', CAST('queued' AS BLOB), 1);"
            "INSERT INTO entries VALUES (2, 1, 9, 0, 0, 0, 0)");
    for (int seq = 1; seq <= 4; ++seq)
      db.exec("INSERT INTO messages VALUES (" + std::to_string(seq) + ", '', 'st', x'800002', CAST('m" +
              std::to_string(seq) + "' AS BLOB), 1); INSERT INTO entries VALUES (1, " + std::to_string(seq) + ", " +
              std::to_string(seq) + ", 0, 0, 0, " + std::to_string(1000 + seq) + ")");
  }
  f.open();
  const queue_summary* q = f.queue(1);
  REQUIRE(q != nullptr);
  CHECK(q->entry_count == 4);
  REQUIRE(q->segments.size() == 2);
  CHECK(q->segments[1].entry_count == 2);
  CHECK(q->segments[1].first_appended_at_ms == 1003);
  std::vector<loaded_entry> read = load_stream(f, 0, 100);
  CHECK(bodies(read) == expected(1, 5));
  CHECK(f.load(2).at(0).body == "queued");  // an ordinary queue keeps its entries
  f.close();
  CHECK(f.count("stream_chunks") == 2);
  CHECK(f.count("entries") == 1);
  CHECK(f.count("messages") == 1);
}
