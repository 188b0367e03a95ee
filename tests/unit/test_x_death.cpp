// x-death header building and RabbitMQ's dead-letter cycle rule, on
// message data alone (the formats were checked against RabbitMQ 3.10).
#include <doctest/doctest.h>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"
#include "broker/dead_letter/x_death.hpp"

using namespace roost;

namespace {

message make(amqp::basic_properties props, std::string exchange = "ex", std::string key = "rk") {
  message m;
  m.exchange = std::move(exchange);
  m.routing_key = std::move(key);
  amqp::wire_writer w(m.properties);
  amqp::encode_properties(w, props);
  m.body = "body";
  m.delivery_mode = props.delivery_mode.value_or(0);
  return m;
}

amqp::basic_properties props_of(const message& m) { return amqp::decode_properties(m.properties); }

std::vector<std::string> keys_of(const amqp::field_table& t) {
  std::vector<std::string> out;
  for (const auto& e : t.entries) out.push_back(e.name);
  return out;
}

const amqp::field_table& entry(const amqp::field_table& headers, std::size_t i) {
  return *headers.find("x-death")->get_if<amqp::field_array>()->at(i).get_if<amqp::field_table>();
}

}  // namespace

TEST_CASE("first death: one entry in RabbitMQ's order, first/last-death headers, expiration removed") {
  amqp::basic_properties p;
  p.expiration = "5000";
  p.delivery_mode = 2;
  p.headers = amqp::field_table{{{"CC", amqp::field_array{std::string("cc1")}}, {"foo", std::int32_t{7}}}};
  message m = make(p);
  dead_lettered dl = make_dead_lettered(m, death_event{"src", death_reason::expired, 1700000000, "dlx", std::nullopt});
  amqp::basic_properties out = props_of(*dl.msg);
  CHECK_FALSE(out.expiration.has_value());
  CHECK(out.delivery_mode == 2);
  CHECK(dl.msg->persistent());
  CHECK(dl.msg->body == "body");
  CHECK(dl.msg->exchange == "dlx");
  CHECK(dl.msg->routing_key == "rk");
  CHECK(dl.routing_keys == std::vector<std::string>{"rk", "cc1"});
  const amqp::field_table& h = *out.headers;
  CHECK(h == dl.headers);
  CHECK(keys_of(h) == std::vector<std::string>{"CC", "foo", "x-death", "x-first-death-exchange",
                                               "x-first-death-queue", "x-first-death-reason",
                                               "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason"});
  const amqp::field_table& d = entry(h, 0);
  CHECK(keys_of(d) == std::vector<std::string>{"count", "reason", "queue", "time", "exchange", "routing-keys",
                                               "original-expiration"});
  CHECK(*d.find("count") == amqp::field_value(std::int64_t{1}));
  CHECK(*d.find("reason") == amqp::field_value("expired"));
  CHECK(*d.find("queue") == amqp::field_value("src"));
  CHECK(*d.find("time") == amqp::field_value(amqp::timestamp_value{1700000000}));
  CHECK(*d.find("exchange") == amqp::field_value("ex"));
  CHECK(*d.find("routing-keys") == amqp::field_value(amqp::field_array{std::string("rk"), std::string("cc1")}));
  CHECK(*d.find("original-expiration") == amqp::field_value("5000"));
  CHECK(*h.find("x-first-death-reason") == amqp::field_value("expired"));
  CHECK(*h.find("x-last-death-queue") == amqp::field_value("src"));
}

TEST_CASE("a dead-letter routing key replaces the keys and drops CC") {
  amqp::basic_properties p;
  p.headers = amqp::field_table{{{"CC", amqp::field_array{std::string("cc1")}}}};
  dead_lettered dl = make_dead_lettered(make(p), death_event{"src", death_reason::rejected, 1, "dlx", "dead"});
  CHECK(dl.routing_keys == std::vector<std::string>{"dead"});
  CHECK(dl.msg->routing_key == "dead");
  CHECK(dl.headers.find("CC") == nullptr);
  CHECK(*entry(dl.headers, 0).find("routing-keys") ==
        amqp::field_value(amqp::field_array{std::string("rk"), std::string("cc1")}));
}

TEST_CASE("a later death for the same queue and reason increments that entry and moves it to the front") {
  message m = make({});
  dead_lettered a1 = make_dead_lettered(m, death_event{"a", death_reason::rejected, 10, "", "b"});
  dead_lettered b1 = make_dead_lettered(*a1.msg, death_event{"b", death_reason::rejected, 20, "", "a"});
  dead_lettered a2 = make_dead_lettered(*b1.msg, death_event{"a", death_reason::rejected, 30, "", "b"});
  const amqp::field_table& first = entry(a2.headers, 0);
  const amqp::field_table& second = entry(a2.headers, 1);
  CHECK(*first.find("queue") == amqp::field_value("a"));
  CHECK(*first.find("count") == amqp::field_value(std::int64_t{2}));
  CHECK(*first.find("time") == amqp::field_value(amqp::timestamp_value{10}));  // kept from the first death
  CHECK(keys_of(first) == std::vector<std::string>{"count", "exchange", "queue", "reason", "routing-keys", "time"});
  CHECK(*second.find("queue") == amqp::field_value("b"));
  CHECK(*second.find("count") == amqp::field_value(std::int64_t{1}));
  CHECK(a2.headers.find("x-death")->get_if<amqp::field_array>()->size() == 2);
  CHECK(*a2.headers.find("x-first-death-queue") == amqp::field_value("a"));
  CHECK(*a2.headers.find("x-last-death-queue") == amqp::field_value("a"));
  // a different reason in the same queue is a new entry
  dead_lettered a3 = make_dead_lettered(*a2.msg, death_event{"a", death_reason::maxlen, 40, "", "b"});
  CHECK(*entry(a3.headers, 0).find("reason") == amqp::field_value("maxlen"));
  CHECK(a3.headers.find("x-death")->get_if<amqp::field_array>()->size() == 3);
}

TEST_CASE("an old signedint count stays a signedint") {
  amqp::basic_properties p;
  amqp::field_table old{{{"count", std::int32_t{4}}, {"queue", "q"}, {"reason", "expired"}}};
  p.headers = amqp::field_table{{{"x-death", amqp::field_array{old}}}};
  dead_lettered dl = make_dead_lettered(make(p), death_event{"q", death_reason::expired, 1, "", std::nullopt});
  CHECK(*entry(dl.headers, 0).find("count") == amqp::field_value(std::int32_t{5}));
  CHECK(dl.headers.find("x-first-death-queue") == nullptr);  // only set on a first death
}

TEST_CASE("cycle rule: automatic deaths back to a queue cycle, a rejection anywhere breaks it") {
  auto deaths = [](std::vector<std::pair<std::string, std::string>> list) {
    amqp::field_array a;
    for (auto& [q, r] : list) a.push_back(amqp::field_table{{{"queue", q}, {"reason", r}}});
    return amqp::field_table{{{"x-death", a}}};
  };
  CHECK(dead_letter_cycle(deaths({{"a", "expired"}}), "a"));
  CHECK_FALSE(dead_letter_cycle(deaths({{"a", "expired"}}), "b"));
  CHECK(dead_letter_cycle(deaths({{"b", "expired"}, {"a", "maxlen"}}), "a"));
  CHECK_FALSE(dead_letter_cycle(deaths({{"b", "rejected"}, {"a", "expired"}}), "a"));
  CHECK_FALSE(dead_letter_cycle(deaths({{"a", "rejected"}}), "a"));
  // deaths older than the last one in the queue do not matter
  CHECK(dead_letter_cycle(deaths({{"a", "expired"}, {"b", "rejected"}}), "a"));
  CHECK_FALSE(dead_letter_cycle(amqp::field_table{}, "a"));
  amqp::field_table odd{{{"x-death", amqp::field_array{std::string("junk"), amqp::field_table{{{"queue", "a"}}}}}}};
  CHECK_FALSE(dead_letter_cycle(odd, "a"));
}

TEST_CASE("BCC keys route the dead-lettered copy but the header goes") {
  amqp::basic_properties p;
  p.headers = amqp::field_table{{{"CC", amqp::field_array{std::string("cc")}}, {"BCC", amqp::field_array{std::string("bcc")}}}};
  dead_lettered dl = make_dead_lettered(make(p), death_event{"q", death_reason::rejected, 1, "dlx", std::nullopt});
  CHECK(dl.routing_keys == std::vector<std::string>{"rk", "cc", "bcc"});
  CHECK(dl.headers.find("BCC") == nullptr);
  CHECK(*entry(dl.headers, 0).find("routing-keys") ==
        amqp::field_value(amqp::field_array{std::string("rk"), std::string("cc")}));
}
