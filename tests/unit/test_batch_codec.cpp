// The replication batch format (storage/batch_codec): every operation the
// store takes survives a round trip field for field; reads and coalesced
// operations are left out; every malformed batch is refused, never misread.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/batch_codec.hpp"

using namespace roost::storage;

namespace {

std::vector<operation> every_operation() {
  static const std::string body = std::string("body\0with nul", 13);
  message_content content{77, nullptr, "amq.topic", "a.b", std::string_view("\x80\x00\x02", 3), body, true};
  return {
      put_exchange{{"/", "x", "topic", true, true, std::string("\0\0\0\0", 4)}},
      delete_exchange{"v", "x"},
      put_queue{{9, "v", "q", true, "args"}},
      delete_queue{9},
      put_binding{{"v", "x", true, "y", "k.#", "a"}},
      delete_binding{{"v", "x", false, "q", "", ""}},
      insert_message{content},
      insert_entry{{9, (std::uint64_t{3} << 48) + 5, 77, 4, true, -1, 123456789012}},
      remove_entry{9, 5},
      update_entry{{9, 6, 77, 0xffffffff, false, 0, 0}},
      purge_queue{9, 1, no_seq_limit},
      insert_delayed{{77, 1700000000000, {9, 10, 11}}},
      remove_delayed{77},
      put_user{{"u", "hash", "rabbit_password_hashing_sha256", "administrator", 10, std::nullopt}},
      delete_user{"u"},
      put_vhost{{"v", "desc", "t1,t2", "classic", std::nullopt, -5}},
      delete_vhost{"v"},
      put_permission{{"u", "v", ".*", "^w$", ""}},
      delete_permission{"u", "v"},
      put_topic_permission{{"u", "v", "amq.topic", "a", "b"}},
      delete_topic_permission{"u", "v", "amq.topic"},
      put_policy{{"v", "p", true, "^q", "queues", -3, "def"}},
      delete_policy{"v", "p", true},
      record_position{{3, 99}},
      start_segment{9, 12},
      put_stream_offset{9, "tracker", 41},
      append_stream{9, 13, 1700000000001, content},
  };
}

std::string encode(batch_position at, const std::vector<operation>& ops) {
  std::vector<const operation*> pointers;
  for (const operation& op : ops) pointers.push_back(&op);
  std::string out;
  encode_batch(at, pointers, out);
  return out;
}

decoded_batch decode(std::string bytes) { return decode_batch(std::make_shared<const std::string>(std::move(bytes))); }

bool same(const message_content& a, const message_content& b) {
  return a.id == b.id && a.exchange == b.exchange && a.routing_key == b.routing_key && a.properties == b.properties &&
         a.body == b.body && a.persistent == b.persistent;
}

bool same(const operation& a, const operation& b) {
  if (a.index() != b.index()) return false;
  if (auto* m = std::get_if<insert_message>(&a)) return same(m->content, std::get<insert_message>(b).content);
  // Every other operation compares as a tuple of its encoded fields: encode both.
  return encode({}, {a}) == encode({}, {b});
}

}  // namespace

TEST_CASE("every operation survives a round trip, in order, with its position") {
  std::vector<operation> ops = every_operation();
  decoded_batch batch = decode(encode({12, 3400}, ops));
  CHECK(batch.position == batch_position{12, 3400});
  REQUIRE(batch.ops.size() == ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) CHECK_MESSAGE(same(batch.ops[i], ops[i]), "operation " << i);
  // Records with equality compare directly too: nothing was lost on the way.
  CHECK(std::get<put_user>(batch.ops[13]).user == std::get<put_user>(ops[13]).user);
  CHECK(std::get<insert_delayed>(batch.ops[11]).delayed == std::get<insert_delayed>(ops[11]).delayed);
  CHECK(std::get<put_policy>(batch.ops[21]).policy == std::get<put_policy>(ops[21]).policy);
}

TEST_CASE("a decoded message's content lives as long as the operation") {
  std::vector<operation> ops{insert_message{{5, nullptr, "", "rk", "", "payload", false}}};
  operation kept;
  {
    decoded_batch batch = decode(encode({1, 1}, ops));
    kept = std::move(batch.ops.front());
  }
  const message_content& content = std::get<insert_message>(kept).content;
  REQUIRE(content.keep_alive);
  CHECK(content.body == "payload");
  CHECK(content.routing_key == "rk");
  CHECK_FALSE(content.persistent);
}

TEST_CASE("coalesced operations and reads are not shipped") {
  operation insert = remove_entry{1, 2};
  operation read = load_entries{1, 0, 10, std::make_shared<std::vector<loaded_entry>>()};
  std::string out;
  encode_batch({1, 2}, {nullptr, &insert, &read, nullptr}, out);
  decoded_batch batch = decode(out);
  REQUIRE(batch.ops.size() == 1);
  CHECK(std::holds_alternative<remove_entry>(batch.ops[0]));
  CHECK(decode(encode({1, 3}, {})).ops.empty());
}

TEST_CASE("every truncation of a batch is refused") {
  std::string whole = encode({7, 8}, every_operation());
  for (std::size_t size = 0; size < whole.size(); ++size)
    CHECK_THROWS_AS(decode(whole.substr(0, size)), bad_batch);
}

TEST_CASE("malformed batches are refused with the reason") {
  std::string good = encode({1, 1}, {delete_queue{3}});
  std::string version = good;
  version[0] = 2;
  CHECK_THROWS_WITH_AS(decode(version), "a batch of another format version", bad_batch);
  std::string trailing = good + "x";
  CHECK_THROWS_WITH_AS(decode(trailing), "bytes after the last operation", bad_batch);
  std::string tag = good;
  tag[21] = 28;  // one past the last operation
  CHECK_THROWS_WITH_AS(decode(tag), "an unknown operation tag 28", bad_batch);
  std::string read = good;
  read[21] = 11;  // load_entries
  CHECK_THROWS_AS(decode(read), bad_batch);
  std::string count = good;
  count[17] = '\x7f';  // two billion operations in a few bytes
  CHECK_THROWS_WITH_AS(decode(count), "more operations than the batch has bytes", bad_batch);
  std::string flag = encode({1, 1}, {delete_policy{"", "", true}});
  flag.back() = 2;
  CHECK_THROWS_WITH_AS(decode(flag), "a flag that is neither 0 nor 1", bad_batch);
  std::string list = encode({1, 1}, {insert_delayed{{1, 2, {}}}});
  list[list.size() - 1] = '\x10';  // sixteen ids, none there
  CHECK_THROWS_WITH_AS(decode(list), "a list longer than the batch", bad_batch);
}
