// Policies as values: validation with RabbitMQ 3.10's texts (each expected
// text below was read off a real node's PUT /api/policies answer), Erlang
// term printing, matching and ranking.
#include <doctest/doctest.h>

#include <string>

#include "broker/policy/erlang_term.hpp"
#include "broker/policy/policy.hpp"
#include "broker/policy/policy_set.hpp"

using namespace roost;

namespace {

amqp::field_table def(std::initializer_list<std::pair<const char*, amqp::field_value>> entries) {
  amqp::field_table t;
  for (const auto& [k, v] : entries) t.entries.push_back({k, v});
  return t;
}

policy_input input(amqp::field_table definition, std::string pattern = "^q", policy_kind kind = policy_kind::regular) {
  policy_input in;
  in.vhost = "/";
  in.name = "p";
  in.kind = kind;
  in.pattern = pattern;
  in.definition = std::move(definition);
  return in;
}

// The text of the refusal, or "" when the policy is accepted.
std::string refusal(const policy_input& in) {
  try {
    validate_policy(in);
  } catch (const policy_invalid& e) {
    return e.what();
  }
  return "";
}

std::string refusal(amqp::field_table definition, policy_kind kind = policy_kind::regular) {
  return refusal(input(std::move(definition), "^q", kind));
}

policy_ref make(std::string name, std::string pattern, amqp::field_table definition, std::int64_t priority = 0,
                std::string apply_to = "all", policy_kind kind = policy_kind::regular) {
  policy_input in = input(std::move(definition), std::move(pattern), kind);
  in.name = std::move(name);
  in.priority = amqp::field_value(priority);
  in.apply_to = amqp::field_value(apply_to);
  return validate_policy(in);
}

}  // namespace

TEST_CASE("each key's bad values are refused with RabbitMQ's text") {
  using amqp::field_value;
  CHECK(refusal(def({{"message-ttl", std::int64_t{-1}}})) == "-1 is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", "abc"}})) == "<<\"abc\">> is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", 1.5}})) == "1.5 is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", true}})) == "true is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", amqp::void_value{}}})) == "null is not a valid message TTL\n");
  CHECK(refusal(def({{"expires", std::int64_t{0}}})) == "0 is not a valid queue expiry\n");
  CHECK(refusal(def({{"max-length", std::int64_t{-1}}})) == "-1 is not a valid maximum length\n");
  CHECK(refusal(def({{"max-length-bytes", "x"}})) == "<<\"x\">> is not a valid maximum length in bytes\n");
  CHECK(refusal(def({{"overflow", "foo"}})) == "<<\"foo\">> is not a valid overflow value\n");
  CHECK(refusal(def({{"overflow", std::int64_t{1}}})) == "1 is not a valid overflow value\n");
  CHECK(refusal(def({{"dead-letter-exchange", std::int64_t{5}}})) == "5 is not a valid dead letter exchange name\n");
  CHECK(refusal(def({{"dead-letter-routing-key", std::int64_t{5}}})) == "5 is not a valid dead letter routing key\n");
  CHECK(refusal(def({{"delivery-limit", std::int64_t{-1}}})) == "-1 is not a valid delivery limit\n");
  CHECK(refusal(def({{"alternate-exchange", std::int64_t{1}}})) == "1 is not a valid alternate exchange name\n");
  CHECK(refusal(def({{"message-ttl", amqp::field_array{}}})) == "[] is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", amqp::field_table{}}})) == "#{} is not a valid message TTL\n");
  CHECK(refusal(def({{"message-ttl", "x\"y\\z\n"}})) == "<<\"x\\\"y\\\\z\\n\">> is not a valid message TTL\n");
}

TEST_CASE("good values, and a routing key without a dead-letter exchange, are accepted") {
  CHECK(refusal(def({{"max-length", std::int64_t{0}},
                     {"max-length-bytes", std::int64_t{0}},
                     {"message-ttl", std::int64_t{0}},
                     {"delivery-limit", std::int64_t{0}}})) == "");
  CHECK(refusal(def({{"dead-letter-routing-key", "rk"}})) == "");
  CHECK(refusal(def({{"dead-letter-exchange", ""}, {"alternate-exchange", ""}})) == "");
  for (const char* mode : {"drop-head", "reject-publish", "reject-publish-dlx"})
    CHECK(refusal(def({{"overflow", mode}})) == "");
  policy_ref p = make("p", "^q", def({{"overflow", "reject-publish-dlx"}, {"max-length", std::int64_t{7}}}));
  CHECK(p->values().overflow == overflow_mode::reject_publish_dlx);
  CHECK(p->values().max_length == 7);
  // Kept sorted by key, as RabbitMQ lists a definition.
  CHECK(p->definition().entries.front().name == "max-length");
}

TEST_CASE("keys are checked in sorted order; unknown keys are listed after the known ones pass") {
  CHECK(refusal(def({{"message-ttl", std::int64_t{-1}}, {"expires", std::int64_t{0}}})) ==
        "0 is not a valid queue expiry\n");
  CHECK(refusal(def({{"foo", std::int64_t{1}}, {"message-ttl", std::int64_t{-1}}})) ==
        "-1 is not a valid message TTL\n");
  CHECK(refusal(def({{"foo", std::int64_t{1}}})) == "[{<<\"foo\">>,1}] are not recognised policy settings\n");
  CHECK(refusal(def({{"foo", std::int64_t{1}}, {"bar", std::int64_t{2}}})) ==
        "[{<<\"bar\">>,2},{<<\"foo\">>,1}] are not recognised policy settings\n");
  // x-max-priority stays an argument only, as in RabbitMQ.
  CHECK(refusal(def({{"x-max-priority", std::int64_t{5}}})) ==
        "[{<<\"x-max-priority\">>,5}] are not recognised policy settings\n");
  CHECK(refusal(def({})) == "no policy provided\n");
}

TEST_CASE("a long list of unknown keys breaks over lines as RabbitMQ prints it") {
  amqp::field_table t =
      def({{"w", std::string(59, 'a')}, {"x", std::int64_t{1}}, {"y", std::int64_t{2}}, {"z", std::int64_t{3}}});
  CHECK(refusal(t) ==
        "[{<<\"w\">>,<<\"" + std::string(59, 'a') +
            "\">>},\n {<<\"x\">>,1},\n {<<\"y\">>,2},\n {<<\"z\">>,3}] are not recognised policy settings\n");
  amqp::field_table one = def({{std::string(53, 'a').c_str(), std::string(21, 'b')}});
  CHECK(refusal(one) == "[{<<\"" + std::string(53, 'a') + "\">>,\n  <<\"" + std::string(21, 'b') +
                            "\">>}] are not recognised policy settings\n");
  amqp::field_array numbers;
  for (std::int64_t i = 1; i <= 30; ++i) numbers.push_back(i);
  CHECK(refusal(def({{"a", numbers}})) ==
        "[{<<\"a\">>,\n  [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,\n"
        "   29,30]}] are not recognised policy settings\n");
  numbers.resize(24);
  CHECK(refusal(def({{"a", numbers}})) ==
        "[{<<\"a\">>,[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}] are not recognised "
        "policy settings\n");
}

TEST_CASE("operator policies take only the numeric limits") {
  auto op = policy_kind::operator_policy;
  for (const char* key : {"message-ttl", "expires", "max-length", "max-length-bytes", "delivery-limit"})
    CHECK(refusal(def({{key, std::int64_t{100}}}), op) == "");
  CHECK(refusal(def({{"overflow", "reject-publish"}}), op) ==
        "[{<<\"overflow\">>,<<\"reject-publish\">>}] are not recognised policy settings\n");
  CHECK(refusal(def({{"dead-letter-exchange", "x"}}), op) ==
        "[{<<\"dead-letter-exchange\">>,<<\"x\">>}] are not recognised policy settings\n");
  CHECK(refusal(def({{"max-length", std::int64_t{1}}, {"foo", std::int64_t{1}}}), op) ==
        "[{<<\"foo\">>,1}] are not recognised policy settings\n");
  CHECK(refusal(def({{"message-ttl", std::int64_t{-1}}}), op) == "-1 is not a valid message TTL\n");
}

TEST_CASE("every refused field is told: definition, apply-to, pattern, priority") {
  policy_input in = input(def({{"message-ttl", std::int64_t{-1}}}), "(");
  in.priority = amqp::field_value("x");
  in.apply_to = amqp::field_value("foo");
  CHECK(refusal(in) ==
        "-1 is not a valid message TTL\n"
        "apply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'\n"
        "pattern should be regular expression but is invalid: {\"missing )\",1}\n"
        "priority should be a number, actually was <<\"x\">>\n");
  in = input(def({{"message-ttl", std::int64_t{1}}}), "a");
  in.priority = amqp::field_value(amqp::void_value{});
  CHECK(refusal(in) == "priority should be a number, actually was null\n");
  in.priority = amqp::field_value(true);
  CHECK(refusal(in) == "priority should be a number, actually was true\n");
  in.priority = amqp::field_value(-3.0);
  CHECK(refusal(in) == "");
  in.priority = amqp::field_value(std::int64_t{5});
  in.pattern = amqp::field_value(std::int64_t{5});
  CHECK(refusal(in) == "pattern should be a binary but was 5\n");
  in.pattern = amqp::field_value("a");
  in.apply_to = amqp::field_value("Queues");
  CHECK(refusal(in) == "apply-to 'Queues' unrecognised; should be 'queues', 'exchanges' or 'all'\n");
}

TEST_CASE("bad patterns: PCRE's messages for the common mistakes, broken as RabbitMQ breaks them") {
  auto pattern_refusal = [](std::string pattern) {
    return refusal(input(def({{"max-length", std::int64_t{1}}}), pattern));
  };
  CHECK(pattern_refusal("[a-") ==
        "pattern should be regular expression but is invalid: {\"missing terminating ] for character class\",\n"
        "                                                      3}\n");
  CHECK(pattern_refusal(std::string(10, 'a') + "|*") ==
        "pattern should be regular expression but is invalid: {\"nothing to repeat\",11}\n");
  CHECK(pattern_refusal(std::string(1000, 'a') + "|*") ==
        "pattern should be regular expression but is invalid: {\"nothing to repeat\",\n"
        "                                                      1001}\n");
  CHECK(pattern_refusal("*a") == "pattern should be regular expression but is invalid: {\"nothing to repeat\",0}\n");
  CHECK(pattern_refusal("(") == "pattern should be regular expression but is invalid: {\"missing )\",1}\n");
  CHECK(pattern_refusal("a{2,1}") ==
        "pattern should be regular expression but is invalid: {\"numbers out of order in {} quantifier\",\n"
        "                                                      5}\n");
  // PCRE 8 stops reading a count at the digit that takes it past 65535 (a fuzz finding: any length of digits).
  CHECK(pattern_refusal("a{70000}") ==
        "pattern should be regular expression but is invalid: {\"number too big in {} quantifier\",\n"
        "                                                      7}\n");
  CHECK(pattern_refusal("a{1," + std::string(40, '9') + "}") ==
        "pattern should be regular expression but is invalid: {\"number too big in {} quantifier\",\n"
        "                                                      9}\n");
  // Accepted: lazy quantifiers, counted repeats, anchors.
  CHECK(pattern_refusal("^a.*?b+?c{2}$") == "");
  CHECK(pattern_refusal("\\") ==
        "pattern should be regular expression but is invalid: {\"\\\\ at end of pattern\",\n"
        "                                                      1}\n");
}

TEST_CASE("Erlang's float printing") {
  CHECK(erlang::format_float(1.5) == "1.5");
  CHECK(erlang::format_float(100.0) == "100.0");
  CHECK(erlang::format_float(1000.0) == "1.0e3");
  CHECK(erlang::format_float(1e20) == "1.0e20");
  CHECK(erlang::format_float(0.1) == "0.1");
  CHECK(erlang::format_float(0.0001) == "0.0001");
  CHECK(erlang::format_float(0.00001) == "1.0e-5");
  CHECK(erlang::format_float(-2.5) == "-2.5");
  CHECK(erlang::format_float(123.456) == "123.456");
  CHECK(erlang::escape_html("<<\"a&b\">>") == "&lt;&lt;\"a&amp;b\"&gt;&gt;");
}

TEST_CASE("a pattern is searched in the name, and apply-to picks queues, exchanges or both") {
  policy_ref p = make("p", "pol", def({{"max-length", std::int64_t{1}}}));
  CHECK(p->applies("my.pol.queue", policy_object::queue));
  CHECK(p->applies("pol", policy_object::exchange));
  CHECK_FALSE(p->applies("other", policy_object::queue));
  policy_ref everything = make("e", "", def({{"max-length", std::int64_t{1}}}));
  CHECK(everything->applies("", policy_object::exchange));  // the default exchange too
  policy_ref queues = make("q", "^a", def({{"max-length", std::int64_t{1}}}), 0, "queues");
  CHECK(queues->applies("abc", policy_object::queue));
  CHECK_FALSE(queues->applies("abc", policy_object::exchange));
  policy_ref exchanges = make("x", "^a", def({{"alternate-exchange", "ae"}}), 0, "exchanges");
  CHECK_FALSE(exchanges->applies("abc", policy_object::queue));
}

TEST_CASE("the highest priority wins; a tie goes to the name that sorts first, whatever the order of setting") {
  amqp::field_table d = def({{"max-length", std::int64_t{1}}});
  policy_set set;
  set.put(make("b", "^t", d));
  set.put(make("a", "^t", d));
  CHECK(set.best(policy_kind::regular, "tie", policy_object::queue)->name() == "a");
  policy_set reversed;
  reversed.put(make("a", "^t", d));
  reversed.put(make("b", "^t", d));
  CHECK(reversed.best(policy_kind::regular, "tie", policy_object::queue)->name() == "a");
  set.put(make("z", "^t", d, 5));
  CHECK(set.best(policy_kind::regular, "tie", policy_object::queue)->name() == "z");
  set.put(make("neg", "^t", d, -3));
  CHECK(set.best(policy_kind::regular, "tie", policy_object::queue)->name() == "z");
  // A policy for exchanges never shadows one for queues.
  set.put(make("zz", "^t", d, 9, "exchanges"));
  CHECK(set.best(policy_kind::regular, "tie", policy_object::queue)->name() == "z");
  CHECK(set.best(policy_kind::regular, "tie", policy_object::exchange)->name() == "zz");
  CHECK(set.best(policy_kind::operator_policy, "tie", policy_object::queue) == nullptr);
  CHECK(set.best(policy_kind::regular, "nomatch", policy_object::queue) == nullptr);
}

TEST_CASE("policies and operator policies may share a name; a record round-trips") {
  policy_set set;
  set.put(make("same", "^q", def({{"max-length", std::int64_t{1}}})));
  set.put(make("same", "^q", def({{"max-length", std::int64_t{2}}}), 0, "queues", policy_kind::operator_policy));
  CHECK(set.all(policy_kind::regular).size() == 1);
  CHECK(set.all(policy_kind::operator_policy).size() == 1);
  policy_ref op = set.find(policy_kind::operator_policy, "same");
  storage::policy_record r = op->record();
  CHECK(r.operator_policy);
  CHECK(r.apply_to == "queues");
  policy_ref back = policy_from_record(r);
  CHECK(back->same_effect(*op));
  CHECK(back->kind() == policy_kind::operator_policy);
  CHECK(set.remove(policy_kind::regular, "same") != nullptr);
  CHECK(set.remove(policy_kind::regular, "same") == nullptr);
  CHECK(set.find(policy_kind::operator_policy, "same") != nullptr);
}
