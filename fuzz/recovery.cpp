// Recovery of a data dir whose roost.db was damaged: bit rot, a torn
// write, an editor, another program. The broker must either refuse the file
// with a message (open_sqlite_store's checks) or start from what it reads;
// it must never crash or hang on it.
//
// At start-up the target writes a template data dir through the store's own
// operations: a vhost, a user with permissions and topic permissions, a
// policy and an operator policy, a durable exchange, queues with arguments,
// bindings, persistent messages (ready, delivered, expiring, on a priority
// queue) and a delayed message. The input is a list of patches, 5 bytes
// each: a big-endian offset into the file (modulo its size) and the byte to
// write there. Each input starts from a fresh copy of the template, so the
// committed seeds are a few bytes each, not database files.
//
// What runs is app/roost.cpp's start: open_sqlite_store, recover(),
// broker::restore, and waiting until every queue's first window is loaded.
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "amqp/properties.hpp"
#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "fuzz/check.hpp"
#include "storage/store.hpp"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace roost;
using roost::fuzz::require;

constexpr std::size_t patch_size = 5;

// Runs the store's completions on this thread, as the broker thread would.
struct broker_thread {
  asio::io_context io;
  storage::poster poster() {
    return [this](std::function<void()> f) { asio::post(io, std::move(f)); };
  }
  template <class Predicate>
  void run_until(Predicate done) {
    auto guard = asio::make_work_guard(io);
    while (!done()) io.run_one();
    io.restart();
  }
};

std::string table_bytes(std::initializer_list<std::pair<const char*, amqp::field_value>> entries) {
  amqp::field_table t;
  for (const auto& [name, value] : entries) t.set(name, value);
  return amqp::encode_table(t);
}

std::string persistent_properties(std::optional<std::string> expiration, std::optional<std::uint8_t> priority) {
  amqp::basic_properties p;
  p.delivery_mode = 2;
  p.expiration = std::move(expiration);
  p.priority = priority;
  p.headers = amqp::decode_table(table_bytes({{"x-delay", std::int32_t{60000}}, {"k", "v"}}));
  std::string out;
  amqp::wire_writer w(out);
  amqp::encode_properties(w, p);
  return out;
}

storage::insert_message stored_message(std::uint64_t id, std::string properties) {
  auto owned = std::make_shared<std::string>(std::move(properties));
  return {storage::message_content{id, owned, "amq.direct", "rk", *owned, "body"}};
}

std::vector<storage::operation> template_contents() {
  using namespace storage;
  const std::string v = "/";
  std::vector<operation> ops{
      put_vhost{{v, "the default", "prod", "classic", std::nullopt, 100}},
      put_user{{"guest", "", "rabbit_password_hashing_sha256", "administrator", std::nullopt, std::nullopt}},
      put_user{{"app", "", "rabbit_password_hashing_sha256", "management,impersonator", 10, 20}},
      put_permission{{"guest", v, ".*", ".*", ".*"}},
      put_permission{{"app", v, "^app\\.", "(a|b)+", "^$"}},
      put_topic_permission{{"app", v, "amq.topic", "^{username}\\.", ".*"}},
      put_policy{{v, "ttl", false, "^app\\.", "queues", 1, table_bytes({{"message-ttl", std::int32_t{5000}}})}},
      put_policy{{v, "cap", true, ".*", "all", 0, table_bytes({{"max-length", std::int32_t{100}}})}},
      put_exchange{{v, "logs", "topic", false, false, table_bytes({{"alternate-exchange", "amq.fanout"}})}},
      put_exchange{{v, "later", "x-delayed-message", false, false, table_bytes({{"x-delayed-type", "direct"}})}},
      put_queue{{1, v, "app.jobs", false,
                 table_bytes({{"x-max-length", std::int32_t{10}}, {"x-dead-letter-exchange", "logs"}})}},
      put_queue{{2, v, "ranked", false, table_bytes({{"x-max-priority", std::uint8_t{5}}})}},
      put_binding{{v, "logs", false, "app.jobs", "app.*.error", table_bytes({})}},
      put_binding{{v, "amq.headers", false, "ranked", "", table_bytes({{"x-match", "any"}, {"a", std::int32_t{1}}})}},
      put_binding{{v, "logs", true, "amq.fanout", "#", table_bytes({})}},
      stored_message(1, persistent_properties(std::nullopt, std::nullopt)),
      stored_message(2, persistent_properties("600000", std::nullopt)),
      stored_message(3, persistent_properties(std::nullopt, 4)),
      stored_message(4, persistent_properties(std::nullopt, std::nullopt)),
      insert_entry{{1, 1, 1, 0, false, 0, 0}},
      insert_entry{{1, 2, 2, 3, true, 4102444800000, 0}},
      insert_entry{{2, lane_base(4) + 1, 3, 0, false, 0, 0}},
      insert_delayed{{4, 4102444800000, {1, 2}}},
  };
  return ops;
}

// Writes the template with the store itself and returns the file's bytes.
std::string build_template(const fs::path& dir) {
  broker_thread thread;
  std::string error;
  {
    auto store = storage::open_sqlite_store({dir.string(), "roost.db", storage::sync_mode::off}, thread.poster(), error);
    require(store != nullptr, "the template data dir opens");
    (void)store->recover();
    bool done = false, ok = false;
    store->submit(template_contents(), [&](bool committed) { done = true, ok = committed; });
    thread.run_until([&] { return done; });
    require(ok, "the template's contents commit");
    store->close();
  }
  std::ifstream in(dir / "roost.db", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct workspace {
  fs::path root;
  std::string pristine;
  workspace() {
    log::set_level(log::level::error);
    std::string pattern = (fs::temp_directory_path() / "roost-fuzz-recovery-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr, "a temporary directory");
    root = pattern;
    pristine = build_template(root / "template");
  }
  ~workspace() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  // A fresh data dir holding the template with the patches applied.
  fs::path damaged_copy(const std::uint8_t* patches, std::size_t size) const {
    fs::path dir = root / "data";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string bytes = pristine;
    for (std::size_t at = 0; at + patch_size <= size; at += patch_size) {
      const std::uint8_t* p = patches + at;
      std::uint32_t offset = std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
      bytes[offset % bytes.size()] = static_cast<char>(p[4]);
    }
    std::ofstream(dir / "roost.db", std::ios::binary) << bytes;
    return dir;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const workspace space;
  fs::path dir = space.damaged_copy(data, size);
  broker_thread thread;
  std::string error;
  auto store = storage::open_sqlite_store({dir.string(), "roost.db", storage::sync_mode::off}, thread.poster(), error);
  if (store == nullptr) {
    require(!error.empty(), "a refused data dir comes with a reason");
    return 0;
  }
  try {
    broker b(config{}, storage_context{store.get(), nullptr});
    b.restore(store->recover());
    thread.run_until([&] { return !b.loading(); });
  } catch (const damaged_store& e) {
    require(*e.what() != '\0', "a damaged record comes with a reason");
  }
  store->close();
  return 0;
}
