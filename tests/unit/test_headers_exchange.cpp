// Unit tests for routing/headers_exchange and routing/headers_match: x-match
// modes, x- argument handling, void arguments, missing headers, RabbitMQ 4.x
// value comparison across field types, and validate_binding's refusal texts.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "routing/headers_exchange.hpp"

using namespace roost;
using namespace roost::routing;

namespace {

destination queue(std::uint32_t id) { return {destination_kind::queue, id}; }

amqp::field_table table(std::initializer_list<amqp::field_entry> entries) { return amqp::field_table{entries}; }

std::vector<destination> route(const exchange_router& router, const amqp::field_table* headers,
                               std::string_view key = "") {
  std::vector<destination> out;
  router.route(routed_message{key, headers}, out);
  std::sort(out.begin(), out.end());
  return out;
}

// Binds one queue with these arguments and reports whether the headers reach it.
bool matches(const amqp::field_table& arguments, const amqp::field_table* headers) {
  headers_exchange x;
  REQUIRE(x.validate_binding(arguments).empty());
  REQUIRE(x.bind(queue(1), "", arguments));
  return route(x, headers).size() == 1;
}

bool matches(const amqp::field_table& arguments, const amqp::field_table& headers) {
  return matches(arguments, &headers);
}

// Whether a binding argument value equals a header value under x-match all.
bool value_matches(amqp::field_value bound, amqp::field_value header) {
  return matches(table({{"v", std::move(bound)}}), table({{"v", std::move(header)}}));
}

}  // namespace

TEST_CASE("headers: x-match all (the default) needs every argument") {
  const auto args = table({{"format", "pdf"}, {"type", "report"}});
  CHECK(matches(args, table({{"format", "pdf"}, {"type", "report"}})));
  CHECK(matches(args, table({{"type", "report"}, {"extra", "x"}, {"format", "pdf"}})));
  CHECK_FALSE(matches(args, table({{"format", "pdf"}})));
  CHECK_FALSE(matches(args, table({{"format", "pdf"}, {"type", "log"}})));
  CHECK_FALSE(matches(args, table({})));

  auto explicit_all = args;
  explicit_all.set("x-match", "all");
  CHECK(matches(explicit_all, table({{"format", "pdf"}, {"type", "report"}})));
  CHECK_FALSE(matches(explicit_all, table({{"type", "report"}})));
}

TEST_CASE("headers: x-match any needs one argument") {
  const auto args = table({{"x-match", "any"}, {"format", "pdf"}, {"type", "report"}});
  CHECK(matches(args, table({{"format", "pdf"}})));
  CHECK(matches(args, table({{"format", "zip"}, {"type", "report"}})));
  CHECK_FALSE(matches(args, table({{"format", "zip"}, {"type", "log"}})));
  CHECK_FALSE(matches(args, table({{"other", "pdf"}})));
}

TEST_CASE("headers: bindings without (non-x) arguments") {
  // all over nothing is true; any over nothing is false - with or without headers.
  CHECK(matches(table({}), table({{"a", "b"}})));
  CHECK(matches(table({}), nullptr));
  CHECK(matches(table({{"x-match", "all"}, {"x-ignored", "v"}}), nullptr));
  CHECK_FALSE(matches(table({{"x-match", "any"}}), table({{"a", "b"}})));
  CHECK_FALSE(matches(table({{"x-match", "any"}}), nullptr));
  CHECK_FALSE(matches(table({{"x-match", "any"}, {"x-foo", "bar"}}), table({{"x-foo", "bar"}})));
}

TEST_CASE("headers: a message without headers") {
  CHECK_FALSE(matches(table({{"a", "b"}}), nullptr));
  CHECK_FALSE(matches(table({{"x-match", "any"}, {"a", "b"}}), nullptr));
  CHECK_FALSE(matches(table({{"a", amqp::void_value{}}}), nullptr));
  CHECK_FALSE(matches(table({{"a", "b"}}), table({})));  // an empty table is the same
}

TEST_CASE("headers: x- arguments are ignored by all and any") {
  CHECK(matches(table({{"x-match", "all"}, {"x-foo", "bar"}, {"a", "1"}}), table({{"a", "1"}})));
  CHECK(matches(table({{"x-foo", "bar"}, {"a", "1"}}), table({{"a", "1"}, {"x-foo", "other"}})));
  // The prefix is case-sensitive: "X-foo" is an ordinary argument.
  CHECK_FALSE(matches(table({{"X-foo", "bar"}}), table({})));
}

TEST_CASE("headers: all-with-x and any-with-x take x- arguments into account") {
  const auto all_x = table({{"x-match", "all-with-x"}, {"x-foo", "bar"}, {"a", "1"}});
  CHECK(matches(all_x, table({{"x-foo", "bar"}, {"a", "1"}})));
  CHECK_FALSE(matches(all_x, table({{"a", "1"}})));
  CHECK_FALSE(matches(all_x, table({{"x-foo", "baz"}, {"a", "1"}})));

  const auto any_x = table({{"x-match", "any-with-x"}, {"x-foo", "bar"}, {"a", "1"}});
  CHECK(matches(any_x, table({{"x-foo", "bar"}})));
  CHECK(matches(any_x, table({{"a", "1"}})));
  CHECK_FALSE(matches(any_x, table({{"x-foo", "baz"}})));

  // x-match itself is never compared, even when the headers carry it.
  CHECK_FALSE(matches(table({{"x-match", "any-with-x"}}), table({{"x-match", "any-with-x"}})));
  CHECK(matches(table({{"x-match", "all-with-x"}}), nullptr));
}

TEST_CASE("headers: a void argument matches on presence only") {
  const auto args = table({{"flag", amqp::void_value{}}});
  CHECK(matches(args, table({{"flag", "anything"}})));
  CHECK(matches(args, table({{"flag", std::int32_t{0}}})));
  CHECK(matches(args, table({{"flag", amqp::void_value{}}})));
  CHECK_FALSE(matches(args, table({{"other", "x"}})));
  CHECK(matches(table({{"x-match", "any"}, {"flag", amqp::void_value{}}, {"b", "2"}}), table({{"flag", false}})));
  // A void header only satisfies a void argument.
  CHECK_FALSE(value_matches("x", amqp::void_value{}));
  CHECK_FALSE(value_matches(std::int32_t{0}, amqp::void_value{}));
}

TEST_CASE("headers: integers compare by value whatever their width or sign") {
  CHECK(value_matches(std::int8_t{1}, std::int64_t{1}));
  CHECK(value_matches(std::uint32_t{70000}, std::int32_t{70000}));
  CHECK(value_matches(std::uint8_t{200}, std::int16_t{200}));
  CHECK(value_matches(std::int8_t{-1}, std::int64_t{-1}));
  CHECK_FALSE(value_matches(std::int64_t{-1}, std::uint32_t{4294967295U}));
  CHECK_FALSE(value_matches(std::int32_t{1}, std::int32_t{2}));
}

TEST_CASE("headers: integers, floats, strings and booleans do not mix") {
  CHECK_FALSE(value_matches(std::int32_t{1}, 1.0));
  CHECK_FALSE(value_matches(1.0, std::int64_t{1}));
  CHECK(value_matches(1.5, 1.5F));                  // float and double compare by value
  CHECK_FALSE(value_matches(1.1, 1.1F));            // ...and 1.1f is not 1.1
  CHECK(value_matches(2.5F, 2.5F));
  CHECK_FALSE(value_matches("1", std::int32_t{1}));
  CHECK_FALSE(value_matches(true, std::int8_t{1}));
  CHECK(value_matches(true, true));
  CHECK_FALSE(value_matches(true, false));
  CHECK_FALSE(value_matches(std::int64_t{0}, false));
}

TEST_CASE("headers: longstr and byte array are both binaries") {
  CHECK(value_matches("abc", amqp::byte_array{"abc"}));
  CHECK(value_matches(amqp::byte_array{"abc"}, "abc"));
  CHECK_FALSE(value_matches("abc", amqp::byte_array{"abd"}));
  CHECK_FALSE(value_matches("abc", "ABC"));
}

TEST_CASE("headers: decimals compare as (scale, digits)") {
  CHECK(value_matches(amqp::decimal_value{2, 150}, amqp::decimal_value{2, 150}));
  CHECK_FALSE(value_matches(amqp::decimal_value{1, 15}, amqp::decimal_value{2, 150}));
  CHECK_FALSE(value_matches(amqp::decimal_value{0, 1}, std::int32_t{1}));
}

TEST_CASE("headers: timestamp headers are compared in milliseconds, as in RabbitMQ 4.x") {
  CHECK(value_matches(std::int64_t{5000}, amqp::timestamp_value{5}));
  CHECK_FALSE(value_matches(std::int64_t{5}, amqp::timestamp_value{5}));
  CHECK_FALSE(value_matches(amqp::timestamp_value{5}, amqp::timestamp_value{5}));
  CHECK(value_matches(amqp::timestamp_value{5000}, amqp::timestamp_value{5}));
  CHECK(value_matches(amqp::timestamp_value{7}, std::int32_t{7}));  // the argument stays in seconds
  CHECK(value_matches(amqp::timestamp_value{0}, amqp::timestamp_value{0}));
  // Scaled, this timestamp exceeds 2^64 (Erlang integers do not wrap); wrapped
  // to 64 bits it would be 384.
  CHECK_FALSE(value_matches(std::int64_t{384}, amqp::timestamp_value{18446744073709552ULL}));
  CHECK_FALSE(value_matches(amqp::timestamp_value{384}, amqp::timestamp_value{18446744073709552ULL}));
}

TEST_CASE("headers: tables and arrays compare with their element types") {
  const amqp::field_table inner{{{"a", std::int32_t{1}}, {"b", "x"}}};
  CHECK(value_matches(inner, inner));
  CHECK_FALSE(value_matches(inner, amqp::field_table{{{"b", "x"}, {"a", std::int32_t{1}}}}));  // order kept
  CHECK_FALSE(value_matches(inner, amqp::field_table{{{"a", std::int64_t{1}}, {"b", "x"}}}));  // nested types kept

  const amqp::field_array array{std::int32_t{1}, "x"};
  CHECK(value_matches(array, array));
  CHECK_FALSE(value_matches(array, amqp::field_array{std::int64_t{1}, "x"}));
  CHECK_FALSE(value_matches(array, amqp::field_array{}));
  CHECK_FALSE(value_matches(array, inner));

  // Erlang holds both as []: an empty table equals an empty array.
  CHECK(value_matches(amqp::field_table{}, amqp::field_array{}));
  CHECK(value_matches(amqp::field_array{}, amqp::field_table{}));
  CHECK_FALSE(value_matches(amqp::field_array{}, "[]"));
}

TEST_CASE("headers: with repeated header names the last one counts") {
  amqp::field_table headers;
  headers.entries.push_back({"k", "first"});
  headers.entries.push_back({"k", "last"});
  CHECK(matches(table({{"k", "last"}}), headers));
  CHECK_FALSE(matches(table({{"k", "first"}}), headers));

  // Same rule on a table large enough to be looked up through a sorted index.
  amqp::field_table big;
  for (int i = 0; i < 40; ++i) big.entries.push_back({"h" + std::to_string(i), std::int32_t{i}});
  big.entries.push_back({"h7", std::int32_t{700}});
  CHECK(matches(table({{"h7", std::int32_t{700}}, {"h39", std::int32_t{39}}, {"h0", std::int32_t{0}}}), big));
  CHECK_FALSE(matches(table({{"h7", std::int32_t{7}}}), big));
  CHECK_FALSE(matches(table({{"h40", amqp::void_value{}}}), big));
  CHECK(matches(table({{"x-match", "any"}, {"nope", "1"}, {"h12", std::int32_t{12}}}), big));
}

TEST_CASE("headers: binding identity, routing key ignored, each destination once") {
  headers_exchange x;
  const auto args = table({{"x-match", "any"}, {"a", "1"}, {"b", "2"}});
  const auto reordered = table({{"b", "2"}, {"a", "1"}, {"x-match", "any"}});
  CHECK(x.bind(queue(1), "", args));
  CHECK_FALSE(x.bind(queue(1), "", reordered));
  CHECK(x.bind(queue(1), "other-key", args));  // the key is part of identity
  CHECK(x.bind(queue(1), "", table({{"a", "1"}})));
  CHECK(x.bind(queue(2), "", table({{"b", "2"}})));
  CHECK(x.binding_count() == 4);

  const auto headers = table({{"a", "1"}, {"b", "2"}});
  CHECK(route(x, &headers, "whatever") == std::vector{queue(1), queue(2)});  // queue 1 once, not three times

  CHECK(x.unbind(queue(1), "", reordered));
  CHECK_FALSE(x.unbind(queue(1), "", reordered));
  CHECK_FALSE(x.unbind(queue(3), "", args));
  CHECK(x.unbind(queue(1), "other-key", args));
  const auto only_b = table({{"b", "2"}});
  CHECK(route(x, &only_b) == std::vector{queue(2)});
  CHECK(x.binding_count() == 2);
}

TEST_CASE("headers: the first x-match wins when it is repeated") {
  amqp::field_table args;
  args.entries.push_back({"x-match", "any"});
  args.entries.push_back({"x-match", "all"});
  args.entries.push_back({"a", "1"});
  args.entries.push_back({"b", "2"});
  CHECK(parse_match_mode(canonical_arguments(args)) == match_mode::any);
  CHECK(matches(args, table({{"a", "1"}})));
}

TEST_CASE("headers: validate_binding refuses what RabbitMQ refuses, with its texts") {
  headers_exchange x;
  CHECK(x.needs_headers());
  CHECK(x.validate_binding(table({})).empty());
  CHECK(x.validate_binding(table({{"a", "b"}})).empty());
  for (const char* mode : {"all", "any", "all-with-x", "any-with-x"})
    CHECK(x.validate_binding(table({{"x-match", mode}})).empty());

  CHECK(x.validate_binding(table({{"x-match", "ALL"}})) ==
        "Invalid x-match field value <<\"ALL\">>; expected all, any, all-with-x, or any-with-x");
  CHECK(x.validate_binding(table({{"x-match", ""}})) ==
        "Invalid x-match field value <<>>; expected all, any, all-with-x, or any-with-x");
  CHECK(x.validate_binding(table({{"x-match", "say \"hi\""}})) ==
        "Invalid x-match field value <<\"say \\\"hi\\\"\">>; expected all, any, all-with-x, or any-with-x");
  CHECK(x.validate_binding(table({{"x-match", std::int32_t{1}}})) ==
        "Invalid x-match field type signedint (value 1); expected longstr");
  CHECK(x.validate_binding(table({{"x-match", amqp::byte_array{"all"}}})) ==
        "Invalid x-match field type binary (value <<\"all\">>); expected longstr");
  CHECK(x.validate_binding(table({{"x-match", true}})) ==
        "Invalid x-match field type bool (value true); expected longstr");
  CHECK(x.validate_binding(table({{"x-match", amqp::void_value{}}})) ==
        "Invalid x-match field type void (value undefined); expected longstr");
  CHECK(x.validate_binding(table({{"x-match", 1.5}})) ==
        "Invalid x-match field type double (value 1.5); expected longstr");
  CHECK(x.validate_binding(table({{"x-match", amqp::field_array{std::int64_t{2}, "a"}}})) ==
        "Invalid x-match field type array (value [{long,2},{longstr,<<\"a\">>}]); expected longstr");
}

TEST_CASE("headers: an unvalidated odd x-match routes as all") {
  headers_exchange x;
  REQUIRE(x.bind(queue(1), "", table({{"x-match", "bogus"}, {"a", "1"}, {"b", "2"}})));
  const auto one = table({{"a", "1"}});
  const auto both = table({{"a", "1"}, {"b", "2"}});
  CHECK(route(x, &one).empty());
  CHECK(route(x, &both) == std::vector{queue(1)});
}

TEST_CASE("headers: make_router builds one") {
  auto router = make_router("headers");
  REQUIRE(router != nullptr);
  CHECK(router->needs_headers());
  CHECK_FALSE(router->validate_binding(table({{"x-match", "nope"}})).empty());
}
