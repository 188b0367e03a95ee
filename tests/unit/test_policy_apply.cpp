// Policies applied to a vhost's queues and exchanges, without sockets:
// what applies (RabbitMQ 3.10's precedence, measured on a real node), and
// what a change does to queues that already exist.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "broker/model/vhost.hpp"
#include "broker/policy/effective.hpp"

using namespace roost;

namespace {

using amqp::field_table;
using amqp::field_value;

field_table table(std::initializer_list<std::pair<const char*, field_value>> entries) {
  field_table t;
  for (const auto& [k, v] : entries) t.entries.push_back({k, v});
  return t;
}

policy_ref make(std::string name, std::string pattern, field_table definition, std::int64_t priority = 0,
                policy_kind kind = policy_kind::regular, std::string apply_to = "all") {
  policy_input in;
  in.vhost = "/";
  in.name = std::move(name);
  in.kind = kind;
  in.pattern = std::move(pattern);
  in.priority = field_value(priority);
  in.apply_to = field_value(std::move(apply_to));
  in.definition = std::move(definition);
  return validate_policy(in);
}

policy_ref op(std::string name, std::string pattern, field_table definition) {
  return make(std::move(name), std::move(pattern), std::move(definition), 0, policy_kind::operator_policy, "queues");
}

queue& declare(vhost& v, const std::string& name, field_table args = {}) {
  queue_options o;
  o.arguments = std::move(args);
  return *v.declare_queue(name, o, false, 1).q;
}

message_ref msg(std::string body, std::string key = "") {
  auto m = std::make_shared<message>();
  m->properties = std::string("\0\0", 2);  // no properties: dead-lettering rewrites them
  m->body = std::move(body);
  m->routing_key = std::move(key);
  return m;
}

std::vector<std::string> drain(queue& q) {
  std::vector<std::string> out;
  while (auto m = q.take()) out.push_back(m->msg->body);
  return out;
}

exchange_spec spec(std::string name, std::string type, field_table args = {}) {
  return exchange_spec{std::move(name), std::move(type), durability::transient, false, false, std::move(args)};
}

std::int64_t i(std::int64_t n) { return n; }

}  // namespace

TEST_CASE("precedence: the lowest limit of argument, policy and operator policy; otherwise the argument first") {
  policy_ref p = make("p", "",
                      table({{"message-ttl", i(5000)},
                             {"expires", i(9000)},
                             {"max-length", i(10)},
                             {"max-length-bytes", i(100)},
                             {"delivery-limit", i(4)},
                             {"dead-letter-exchange", "pol-dlx"},
                             {"dead-letter-routing-key", "pol-rk"},
                             {"overflow", "drop-head"}}));
  policy_ref o = op("o", "", table({{"message-ttl", i(3000)}, {"max-length", i(20)}, {"expires", i(100000)}}));
  field_table args = table({{"x-message-ttl", i(10000)},
                            {"x-max-length", i(5)},
                            {"x-max-length-bytes", i(1000)},
                            {"x-delivery-limit", i(2)},
                            {"x-dead-letter-exchange", "arg-dlx"},
                            {"x-dead-letter-routing-key", "arg-rk"},
                            {"x-overflow", "reject-publish"},
                            {"x-max-priority", i(3)}});
  queue_arguments declared = parse_queue_arguments(args, "q");
  queue_arguments e = effective_queue_arguments(declared, args, p.get(), o.get());
  CHECK(e.message_ttl_ms == 3000);   // operator 3000 < policy 5000 < argument 10000
  CHECK(e.max_length == 5);          // argument 5 < policy 10 < operator 20
  CHECK(e.max_length_bytes == 100);  // policy 100 < argument 1000
  CHECK(e.delivery_limit == 2);      // argument 2 < policy 4
  CHECK(e.expires_ms == 9000);       // policy 9000 < operator 100000, no argument
  CHECK(e.dead_letter_exchange == "arg-dlx");
  CHECK(e.dead_letter_routing_key == "arg-rk");
  CHECK(e.overflow == overflow_mode::reject_publish);
  CHECK(e.max_priority == 3);
  // Without arguments the policy's values apply, lowered by the operator policy.
  queue_arguments bare = effective_queue_arguments({}, {}, p.get(), o.get());
  CHECK(bare.message_ttl_ms == 3000);
  CHECK(bare.max_length == 10);
  CHECK(bare.dead_letter_exchange == "pol-dlx");
  CHECK(bare.dead_letter_routing_key == "pol-rk");
  CHECK(bare.overflow == overflow_mode::drop_head);
  // An argument dead-letter exchange with the policy's routing key (each key is resolved alone).
  field_table dlx_only = table({{"x-dead-letter-exchange", "arg-dlx"}});
  queue_arguments mixed = effective_queue_arguments(parse_queue_arguments(dlx_only, "q"), dlx_only, p.get(), nullptr);
  CHECK(mixed.dead_letter_exchange == "arg-dlx");
  CHECK(mixed.dead_letter_routing_key == "pol-rk");
  // An operator policy alone.
  queue_arguments only_op = effective_queue_arguments(parse_queue_arguments(args, "q"), args, nullptr, o.get());
  CHECK(only_op.message_ttl_ms == 3000);
  CHECK(only_op.max_length == 5);
}

TEST_CASE("effective_policy_definition: the policy's keys with the operator policy's merged, the lower limit winning") {
  policy_ref p =
      make("p", "", table({{"message-ttl", i(5000)}, {"max-length", i(10)}, {"dead-letter-exchange", "dlx"}}));
  policy_ref o = op("o", "", table({{"message-ttl", i(3000)}, {"max-length", i(20)}, {"expires", i(100000)}}));
  field_table d = effective_definition(p.get(), o.get());
  CHECK(
      d ==
      table(
          {{"dead-letter-exchange", "dlx"}, {"expires", i(100000)}, {"max-length", i(10)}, {"message-ttl", i(3000)}}));
  CHECK(effective_definition(nullptr, nullptr).empty());
  CHECK(effective_definition(nullptr, o.get()) == o->definition());
  CHECK(effective_definition(p.get(), nullptr) == p->definition());
}

TEST_CASE(
    "a policy applies at once to existing queues, to queues declared later, and clearing it restores the arguments") {
  vhost v("/");
  queue& before = declare(v, "pol.a", table({{"x-max-length", i(50)}}));
  queue& other = declare(v, "other");
  CHECK(v.put_policy(make("p", "^pol\\.", table({{"max-length", i(5)}}))));
  CHECK(before.arguments().max_length == 5);
  CHECK(before.applied_policy()->name() == "p");
  CHECK(other.applied_policy() == nullptr);
  CHECK_FALSE(other.arguments().max_length);
  queue& after = declare(v, "pol.b");
  CHECK(after.arguments().max_length == 5);
  // Replacing it (same name) is not new, and applies the new definition.
  CHECK_FALSE(v.put_policy(make("p", "^pol\\.", table({{"max-length", i(7)}}))));
  CHECK(after.arguments().max_length == 7);
  CHECK(v.delete_policy(policy_kind::regular, "p"));
  CHECK_FALSE(v.delete_policy(policy_kind::regular, "p"));
  CHECK(before.arguments().max_length == 50);
  CHECK_FALSE(after.arguments().max_length);
  CHECK(before.applied_policy() == nullptr);
}

TEST_CASE("a new max-length trims the queue now, from the head") {
  vhost v("/");
  queue& q = declare(v, "t2.q");
  for (int n = 0; n < 10; ++n) q.enqueue(msg(std::to_string(n)));
  v.put_policy(make("t2", "^t2\\.", table({{"max-length", i(3)}})));
  CHECK(q.ready_count() == 3);
  CHECK(drain(q) == std::vector<std::string>{"7", "8", "9"});
}

TEST_CASE("with reject-publish the queue keeps what it holds, and refuses more; drop-head from a policy trims") {
  vhost v("/");
  queue& q = declare(v, "r.q", table({{"x-overflow", "reject-publish"}}));
  for (int n = 0; n < 5; ++n) q.enqueue(msg(std::to_string(n)));
  v.put_policy(make("r", "^r\\.", table({{"max-length", i(2)}, {"overflow", "drop-head"}})));
  CHECK(q.ready_count() == 5);  // the argument's reject-publish wins over the policy's drop-head
  CHECK(q.refuses(*msg("x")));
  queue& plain = declare(v, "r.plain");
  for (int n = 0; n < 5; ++n) plain.enqueue(msg(std::to_string(n)));
  CHECK(plain.ready_count() == 2);
}

TEST_CASE("trimmed and rejected messages go to a dead-letter exchange set by a policy") {
  vhost v("/");
  v.declare_exchange(spec("dlx", "fanout"), false);
  queue& dead = declare(v, "dead");
  v.bind_queue("dlx", "dead", "", {}, 1);
  queue& q = declare(v, "work.q");
  for (int n = 0; n < 4; ++n) q.enqueue(msg(std::to_string(n)));
  v.put_policy(make("dl", "^work\\.", table({{"dead-letter-exchange", "dlx"}, {"max-length", i(3)}})));
  CHECK(drain(dead) == std::vector<std::string>{"0"});
  auto m = q.take();
  REQUIRE(m);
  q.reject(std::move(*m));
  CHECK(drain(dead) == std::vector<std::string>{"1"});
  // Cleared: the next rejected message is dropped.
  v.delete_policy(policy_kind::regular, "dl");
  m = q.take();
  REQUIRE(m);
  q.reject(std::move(*m));
  CHECK(dead.ready_count() == 0);
  CHECK(q.ready_count() == 1);
}

TEST_CASE("a new message-ttl applies to messages that arrive after it, not to those already there (as RabbitMQ)") {
  vhost v("/");
  queue& q = declare(v, "ttl.q");
  q.enqueue(msg("old"));
  v.put_policy(make("ttl", "^ttl\\.", table({{"message-ttl", i(60000)}})));
  q.enqueue(msg("new"));
  auto old_one = q.take();
  auto new_one = q.take();
  REQUIRE(old_one);
  REQUIRE(new_one);
  CHECK(old_one->expires_at_ms == 0);
  CHECK(new_one->expires_at_ms != 0);
}

TEST_CASE("an operator policy lowers a limit below the policy's and the argument's") {
  vhost v("/");
  queue& q = declare(v, "lim.q", table({{"x-max-length", i(5)}}));
  v.put_policy(make("p", "^lim", table({{"max-length", i(10)}})));
  CHECK(q.arguments().max_length == 5);
  v.put_policy(op("o", "^lim", table({{"max-length", i(3)}})));
  CHECK(q.arguments().max_length == 3);
  CHECK(q.applied_operator_policy()->name() == "o");
  CHECK(q.applied_policy()->name() == "p");
  // An operator policy above the others changes nothing.
  v.put_policy(op("o", "^lim", table({{"max-length", i(30)}})));
  CHECK(q.arguments().max_length == 5);
  v.delete_policy(policy_kind::operator_policy, "o");
  CHECK(q.applied_operator_policy() == nullptr);
  CHECK(q.applied_policy() != nullptr);
}

TEST_CASE(
    "only the winning policy applies: a higher priority one shadows the rest, and losing it brings the next back") {
  vhost v("/");
  queue& q = declare(v, "sh.q");
  v.put_policy(make("lo", "^sh", table({{"max-length", i(1)}})));
  v.put_policy(make("hi", "^sh", table({{"message-ttl", i(60000)}}), 5));
  CHECK(q.applied_policy()->name() == "hi");
  CHECK_FALSE(q.arguments().max_length);
  // Lowering the winner's priority below the other hands the queue over.
  v.put_policy(make("hi", "^sh", table({{"message-ttl", i(60000)}}), -1));
  CHECK(q.applied_policy()->name() == "lo");
  v.put_policy(make("hi", "^sh", table({{"message-ttl", i(60000)}}), 5));
  v.delete_policy(policy_kind::regular, "hi");
  CHECK(q.applied_policy()->name() == "lo");
  CHECK(q.arguments().max_length == 1);
  // A pattern that stops matching lets go of the queue.
  v.put_policy(make("lo", "^nothing", table({{"max-length", i(1)}})));
  CHECK(q.applied_policy() == nullptr);
}

TEST_CASE("alternate-exchange from a policy; the exchange's own argument wins") {
  vhost v("/");
  v.declare_exchange(spec("ae", "fanout"), false);
  v.declare_exchange(spec("ae2", "fanout"), false);
  queue& caught = declare(v, "caught");
  queue& caught2 = declare(v, "caught2");
  v.bind_queue("ae", "caught", "", {}, 1);
  v.bind_queue("ae2", "caught2", "", {}, 1);
  exchange& x = v.declare_exchange(spec("in.x", "direct"), false);
  exchange& with_arg = v.declare_exchange(spec("in.arg", "direct", table({{"alternate-exchange", "ae2"}})), false);
  v.put_policy(make("ae", "^in\\.", table({{"alternate-exchange", "ae"}}), 0, policy_kind::regular, "exchanges"));
  CHECK(x.applied_policy()->name() == "ae");
  std::vector<queue*> out;
  message m;
  m.routing_key = "nowhere";
  v.route(x, m, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == &caught);
  v.route(with_arg, m, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == &caught2);
  // Declared later: picks it up. Cleared: unroutable again.
  exchange& later = v.declare_exchange(spec("in.later", "topic"), false);
  CHECK(later.alternate_exchange() == "ae");
  v.delete_policy(policy_kind::regular, "ae");
  v.route(x, m, out);
  CHECK(out.empty());
  CHECK(x.applied_policy() == nullptr);
  // A policy for queues does not touch exchanges, and operator policies never do.
  v.put_policy(make("qonly", "^in\\.", table({{"alternate-exchange", "ae"}}), 0, policy_kind::regular, "queues"));
  CHECK_FALSE(x.alternate_exchange());
}

TEST_CASE("exclusive queues get policies too") {
  vhost v("/");
  queue_options o;
  o.exclusive = true;
  queue& q = *v.declare_queue("excl.q", o, false, 7).q;
  v.put_policy(make("ex", "^excl", table({{"max-length", i(1)}})));
  q.enqueue(msg("a"));
  q.enqueue(msg("b"));
  CHECK(q.ready_count() == 1);
}

TEST_CASE("a vhost without policies leaves queues and exchanges as declared") {
  vhost v("/");
  queue& q = declare(v, "q", table({{"x-max-length", i(4)}}));
  CHECK(q.applied_policy() == nullptr);
  CHECK(q.arguments().max_length == 4);
  CHECK(v.policies().empty());
  v.put_policy(make("p", "^zzz", table({{"max-length", i(1)}})));
  CHECK(q.applied_policy() == nullptr);
  CHECK(q.arguments().max_length == 4);
}
