// vhost operations: predeclared exchanges, declare equivalence, exclusive
// access, bindings through exchange-to-exchange and alternate exchanges,
// auto-delete, clean-up when queues and exchanges go away, and a broker
// restored from records it cannot read.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/errors.hpp"

using namespace roost;

namespace {

std::uint16_t channel_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const channel_error& e) {
    return static_cast<std::uint16_t>(e.code());
  } catch (const connection_error& e) {
    return static_cast<std::uint16_t>(e.code());
  }
  return 0;
}

exchange_spec spec(std::string name, std::string type, amqp::field_table args = {}) {
  return exchange_spec{std::move(name), std::move(type), durability::transient, false, false, std::move(args)};
}

std::vector<std::string> route_names(vhost& v, std::string_view exchange_name, std::string key) {
  message m;
  m.routing_key = std::move(key);
  std::vector<queue*> out;
  v.route(*v.find_exchange(exchange_name), m, out);
  std::vector<std::string> names;
  for (queue* q : out) names.push_back(q->name());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("predeclared exchanges exist and amq.* names are reserved") {
  vhost v("/");
  for (auto name : {"", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"})
    CHECK(v.find_exchange(name) != nullptr);
  CHECK(channel_code([&] { v.declare_exchange(spec("amq.custom", "direct"), false); }) == 403);
  CHECK(channel_code([&] { v.declare_exchange(spec("", "direct"), false); }) == 403);
  CHECK(channel_code([&] { v.delete_exchange("amq.direct", false); }) == 403);
  exchange_spec amq_direct = spec("amq.direct", "direct");
  CHECK(channel_code([&] { v.declare_exchange(amq_direct, false); }) == 406);  // predeclared ones are durable
  amq_direct.durable = durability::durable;
  CHECK(channel_code([&] { v.declare_exchange(amq_direct, false); }) == 0);
}

TEST_CASE("redeclaring with other properties is 406; unknown types are 503") {
  vhost v("/");
  v.declare_exchange(spec("x", "direct"), false);
  CHECK(channel_code([&] { v.declare_exchange(spec("x", "fanout"), false); }) == 406);
  CHECK(channel_code([&] { v.declare_exchange(spec("y", "nonsense"), false); }) == 503);
  CHECK(channel_code([&] { v.declare_exchange(spec("missing", "direct"), true); }) == 404);
  v.declare_queue("q", {}, false, 1);
  queue_options durable_opts;
  durable_opts.durable = durability::durable;
  CHECK(channel_code([&] { v.declare_queue("q", durable_opts, false, 1); }) == 406);
  queue_options ttl;
  ttl.arguments.set("x-message-ttl", std::int32_t(100));
  CHECK(channel_code([&] { v.declare_queue("q", ttl, false, 1); }) == 406);
  queue_options unrelated;
  unrelated.arguments.set("x-custom", std::int32_t(1));
  CHECK(channel_code([&] { v.declare_queue("q", unrelated, false, 1); }) == 0);
}

TEST_CASE("exclusive queues belong to their connection") {
  vhost v("/");
  queue_options exclusive;
  exclusive.exclusive = true;
  v.declare_queue("mine", exclusive, false, 7);
  CHECK(channel_code([&] { v.declare_queue("mine", exclusive, false, 8); }) == 405);
  CHECK(channel_code([&] { v.declare_queue("mine", {}, true, 8); }) == 405);
  CHECK(channel_code([&] { v.purge_queue("mine", 8); }) == 405);
  CHECK(channel_code([&] { v.declare_queue("mine", {}, false, 7); }) == 405);  // flag must match too
  v.drop_exclusive_queues(7);
  CHECK(v.find_queue("mine") == nullptr);
}

TEST_CASE("server-named queues") {
  vhost v("/");
  auto r = v.declare_queue("", {}, false, 1);
  CHECK(r.created);
  CHECK(r.q->name().starts_with("amq.gen-"));
  CHECK(r.q->name().size() == 8 + 22);
}

TEST_CASE("routing: default exchange, direct, exchange-to-exchange, alternate exchange") {
  vhost v("/");
  for (auto name : {"q1", "q2", "q3", "orphans"}) v.declare_queue(name, {}, false, 1);
  CHECK(route_names(v, "", "q1") == std::vector<std::string>{"q1"});
  CHECK(route_names(v, "", "nope").empty());

  amqp::field_table with_ae;
  with_ae.set("alternate-exchange", "ae");
  v.declare_exchange(spec("ae", "fanout"), false);
  v.bind_queue("ae", "orphans", "", {}, 1);
  v.declare_exchange(spec("front", "direct", with_ae), false);
  v.declare_exchange(spec("back", "topic"), false);
  v.bind_queue("front", "q1", "k", {}, 1);
  v.bind_queue("front", "q1", "k2", {}, 1);
  v.bind_exchange("front", "back", "k", {});
  v.bind_queue("back", "q2", "#", {}, 1);
  v.bind_queue("back", "q1", "k", {}, 1);

  CHECK(route_names(v, "front", "k") == std::vector<std::string>{"q1", "q2"});
  CHECK(route_names(v, "front", "unbound") == std::vector<std::string>{"orphans"});
}

TEST_CASE("binding cycles do not loop") {
  vhost v("/");
  v.declare_queue("q", {}, false, 1);
  v.declare_exchange(spec("a", "fanout"), false);
  v.declare_exchange(spec("b", "fanout"), false);
  v.bind_exchange("a", "b", "", {});
  v.bind_exchange("b", "a", "", {});
  v.bind_queue("b", "q", "", {}, 1);
  CHECK(route_names(v, "a", "x") == std::vector<std::string>{"q"});
}

TEST_CASE("deleting a queue removes its bindings; auto-delete exchanges go with their last binding") {
  vhost v("/");
  v.declare_queue("q", {}, false, 1);
  exchange_spec auto_x = spec("auto", "direct");
  auto_x.auto_delete = true;
  v.declare_exchange(auto_x, false);
  v.declare_exchange(spec("keep", "direct"), false);
  v.bind_queue("auto", "q", "k", {}, 1);
  v.bind_queue("keep", "q", "k", {}, 1);
  CHECK(channel_code([&] { v.delete_exchange("keep", true); }) == 406);
  v.delete_queue("q", false, false, 1);
  CHECK(v.find_exchange("auto") == nullptr);
  CHECK(v.find_exchange("keep") != nullptr);
  CHECK(v.find_exchange("keep")->bindings().empty());
}

TEST_CASE("queue delete: if-empty and if-unused; missing queue is not an error") {
  vhost v("/");
  v.declare_queue("q", {}, false, 1);
  v.find_queue("q")->enqueue(std::make_shared<message>());
  CHECK(channel_code([&] { v.delete_queue("q", false, true, 1); }) == 406);
  CHECK(v.delete_queue("q", true, false, 1) == 1);
  CHECK(v.delete_queue("q", false, false, 1) == 0);
}

TEST_CASE("binding to or from the default exchange is refused; binding missing things is 404") {
  vhost v("/");
  v.declare_queue("q", {}, false, 1);
  CHECK(channel_code([&] { v.bind_queue("", "q", "q", {}, 1); }) == 403);
  CHECK(channel_code([&] { v.bind_queue("missing", "q", "k", {}, 1); }) == 404);
  CHECK(channel_code([&] { v.bind_queue("amq.direct", "missing", "k", {}, 1); }) == 404);
  v.unbind_queue("amq.direct", "q", "never-bound", {}, 1);  // idempotent, as RabbitMQ
}

// Found by fuzz/recovery: a damaged roost.db used to end the program with
// an uncaught decode_error.
TEST_CASE("restore: a stored record whose arguments do not decode stops the restore, naming the record") {
  broker b{config{}};
  storage::recovered_state state;
  // A field table that claims 16 bytes and has none.
  state.exchanges.push_back(storage::exchange_record{"/", "orders", "direct", false, false, std::string("\0\0\0\x10", 4)});
  CHECK_THROWS_WITH_AS(b.restore(state),
                       "the stored exchange 'orders' in vhost '/' cannot be decoded (field runs past the end of its frame)",
                       damaged_store);
  state.exchanges.clear();
  storage::queue_summary q;
  q.queue = storage::queue_record{1, "/", "jobs", false, "\x01"};
  state.queues.push_back(q);
  CHECK_THROWS_WITH_AS(b.restore(state), doctest::Contains("the stored queue 'jobs' in vhost '/'"), damaged_store);
}

// Found by fuzz/recovery in its hour-long run: arguments that decode but
// that no declare would accept threw a channel_error out of the restore.
TEST_CASE("restore: a stored binding whose arguments a declare would refuse stops the restore, naming it") {
  broker b{config{}};
  storage::recovered_state state;
  amqp::field_table args;
  args.set("x-match", "an\xed");
  state.bindings.push_back(storage::binding_record{"/", "amq.headers", false, "jobs", "", amqp::encode_table(args)});
  storage::queue_summary q;
  q.queue = storage::queue_record{1, "/", "jobs", false, amqp::encode_table(amqp::field_table{})};
  state.queues.push_back(q);
  CHECK_THROWS_WITH_AS(b.restore(state),
                       doctest::Contains("the stored binding of 'jobs' to 'amq.headers' in vhost '/' is not valid "
                                         "(PRECONDITION_FAILED - Invalid x-match field value"),
                       damaged_store);
}
