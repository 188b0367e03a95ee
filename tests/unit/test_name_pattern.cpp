// name_pattern: PCRE2 searched in names as RabbitMQ's re searches them
// (anywhere in the name, bytes not UTF-8, RabbitMQ's PCRE syntax), refusals
// with an offset, and the bound that turns a catastrophic backtrack into
// "no match".
#include <doctest/doctest.h>

#include <string>

#include "broker/common/name_pattern.hpp"

using namespace roost;

TEST_CASE("a pattern is searched anywhere in the name; anchors pin it") {
  CHECK(name_pattern("amq").search("x.amq.y"));
  CHECK(name_pattern("^amq\\.").search("amq.direct"));
  CHECK_FALSE(name_pattern("^amq\\.").search("x.amq.direct"));
  CHECK_FALSE(name_pattern("^amq\\.").search("amqxdirect"));
  CHECK(name_pattern("-dlq$").search("orders-dlq"));
  CHECK_FALSE(name_pattern("-dlq$").search("orders-dlq.old"));
  CHECK(name_pattern("^(orders|billing)\\.").search("billing.eu"));
  CHECK_FALSE(name_pattern("^(orders|billing)\\.").search("shipping.eu"));
  CHECK(name_pattern(".*").search(""));
  CHECK(name_pattern("^$").search(""));
  CHECK_FALSE(name_pattern("^$").search("q"));
  CHECK(name_pattern("").search("anything"));
}

TEST_CASE("PCRE syntax: lookahead as in RabbitMQ's docs, lookbehind, possessive quantifiers") {
  name_pattern not_amq("^(?!amq\\.).*");
  CHECK(not_amq.search("orders"));
  CHECK(not_amq.search("amqp-bridge"));
  CHECK_FALSE(not_amq.search("amq.topic"));
  CHECK(name_pattern("(?<=eu\\.)orders").search("eu.orders"));
  CHECK_FALSE(name_pattern("(?<=eu\\.)orders").search("us.orders"));
  CHECK(name_pattern("^a++b$").search("aaab"));
  CHECK(name_pattern("^x{username}$").search("x{username}"));  // a brace that is no quantifier is a literal
}

TEST_CASE("names are bytes: not UTF-8, NUL and high bytes are searched like any other") {
  std::string latin1 = "caf\xe9";  // é in Latin-1: invalid UTF-8
  CHECK(name_pattern("^caf.$").search(latin1));
  CHECK(name_pattern("\\xe9$").search(latin1));
  CHECK_FALSE(name_pattern("^caf..$").search(latin1));  // one byte, one character
  std::string with_nul("a\0b", 3);
  CHECK(name_pattern("^a.b$").search(with_nul));
  CHECK(name_pattern(std::string("\0", 1)).search(with_nul));
  CHECK(name_pattern("^.{2}$").search("\xc3\xa9"));  // UTF-8 é is two bytes
}

TEST_CASE("an invalid pattern is refused with PCRE2's message and offset") {
  auto refused = [](std::string source) -> pattern_error {
    try {
      name_pattern p(source);
    } catch (const pattern_error& e) {
      return e;
    }
    FAIL("accepted: " << source);
    return pattern_error("", 0);
  };
  pattern_error open = refused("ab(c");
  CHECK(open.offset() == 4);
  CHECK(open.message() == "missing closing parenthesis");
  CHECK(std::string(open.what()) == "missing closing parenthesis at offset 4");
  CHECK(refused("*a").offset() == 0);
  CHECK(refused("[a-").message().find("missing terminating ]") != std::string::npos);
  CHECK(refused("a{2,1}").message().find("out of order") != std::string::npos);
}

TEST_CASE("a catastrophic backtrack stops at the bound and answers no match") {
  std::string name = std::string(33, 'a') + "b";
  name_pattern nested("(a+)+$");
  CHECK_FALSE(nested.search(name));
  CHECK_FALSE(name_pattern("(a|aa)*$").search(std::string(254, 'a') + "b"));
  // The bound is per search: the same pattern still answers the next one.
  CHECK(nested.search(std::string(33, 'a')));
  // An ordinary pattern over a whole 255-byte name completes.
  std::string long_name;
  for (int i = 0; i < 255; ++i) long_name += "abcdefghij.-_"[i % 13];
  CHECK(name_pattern("^(a|b|c|d|e|f|g|h|i|j|\\.|-|_)*$").search(long_name));
}

TEST_CASE("copies share the compiled pattern and answer alike") {
  name_pattern one("^q\\d+$");
  name_pattern two = one;
  CHECK(one.search("q12"));
  CHECK(two.search("q12"));
  CHECK_FALSE(two.search("q1x"));
}
