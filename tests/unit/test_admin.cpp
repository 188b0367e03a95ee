// admin-ui building blocks without sockets: path patterns, percent-decoding,
// binding properties keys, query strings, list filter/sort/pagination, base64 and Basic auth, JSON
// bodies and field tables, static file paths.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "admin-ui/api_error.hpp"
#include "admin-ui/basic_auth.hpp"
#include "broker/common/base64.hpp"
#include "admin-ui/json_body.hpp"
#include "admin-ui/listing.hpp"
#include "admin-ui/properties_key.hpp"
#include "admin-ui/router.hpp"
#include "admin-ui/static_files.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"

using namespace roost;
using namespace roost::admin;
using nlohmann::json;

namespace {

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const api_error& e) {
    return e.status();
  }
  return 0;
}

json names(std::initializer_list<const char*> list) {
  json items = json::array();
  int i = 0;
  for (const char* n : list) items.push_back(json{{"name", n}, {"n", i++}, {"stats", {{"rate", 10 - i}}}});
  return items;
}

std::vector<std::string> names_of(const json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i["name"]);
  return out;
}

}  // namespace

TEST_CASE("percent-decoding: escapes, '+' kept in paths, broken escapes refused") {
  CHECK(percent_decode("%2F") == "/");
  CHECK(percent_decode("a%20b+c") == "a b+c");
  CHECK(percent_decode("%e2%82%AC") == "\xe2\x82\xac");
  CHECK_FALSE(percent_decode("%2").has_value());
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
  CHECK(percent_encode("a/b c~") == "a%2Fb%20c~");
  CHECK(percent_decode(percent_encode("weird \x01/%?#name")) == "weird \x01/%?#name");
}

// The expected strings are what RabbitMQ 3.10.8 lists for the same bindings.
TEST_CASE("properties keys: the routing key quoted as RabbitMQ does, '~' escaped, '~' alone for the empty key") {
  auto key = [](std::string routing_key, amqp::field_table arguments = {}) {
    return properties_key(binding{{}, std::move(routing_key), std::move(arguments)});
  };
  CHECK(key("a.*") == "a.%2A");
  CHECK(key("a.#") == "a.%23");
  CHECK(key("a b") == "a+b");
  CHECK(key("a+b") == "a%2Bb");
  CHECK(key("a/b") == "a%2Fb");
  CHECK(key("a%b") == "a%25b");
  CHECK(key("%2A") == "%252A");
  CHECK(key("a~b") == "a%7Eb");
  CHECK(key("~") == "%7E");
  CHECK(key("a!'()") == "a%21%27%28%29");
  CHECK(key("a-b_c.D9") == "a-b_c.D9");
  CHECK(key("\xc3\xa9") == "%C3%A9");
  CHECK(key("\xe6\x97\xa5\xe6\x9c\xac") == "%E6%97%A5%E6%9C%AC");
  CHECK(key("") == "~");

  amqp::field_table one, other;
  one.set("x", std::int32_t{1});
  other.set("x", std::int32_t{2});
  std::string with_args = key("a b", one);
  REQUIRE(with_args.starts_with("a+b~"));
  std::string hash = with_args.substr(4);
  CHECK(hash.size() == 16);
  CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(key("", one) == "~" + hash);  // the empty key has no "~" of its own then
  CHECK(key("a b", other) != with_args);
}

// The segment as the router hands it over (percent-decoded once); the expected
// answers are what RabbitMQ 3.10.8 finds for the same path.
TEST_CASE("a properties-key segment is split at '~' and unquoted a second time, as RabbitMQ does") {
  // rabbitmqadmin sends the raw key quoted once, the dashboard the listed key quoted once
  CHECK(named_properties_key("a.*") == "a.%2A");
  CHECK(named_properties_key("a.%2A") == "a.%2A");
  CHECK(named_properties_key("a.%2a") == "a.%2A");
  // the second decoding reads '+' as a space, so a raw '+' only arrives as "%2B" in the listed key
  CHECK(named_properties_key("a b") == "a+b");
  CHECK(named_properties_key("a+b") == "a+b");
  CHECK(named_properties_key("a%20b") == "a+b");
  CHECK(named_properties_key("a%2Bb") == "a%2Bb");
  // a key that itself looks escaped: only its listed form, quoted once, names it
  CHECK(named_properties_key("%2A") == "%2A");
  CHECK(named_properties_key("%252A") == "%252A");
  // an escape that is not one stays as it is
  CHECK(named_properties_key("a%zz") == "a%25zz");
  CHECK(named_properties_key("a%25zz") == "a%25zz");
  CHECK(named_properties_key("50%") == "50%25");
  // '~' separates the arguments hash; "%7E" is a '~' in the key
  CHECK(named_properties_key("a%7Eb") == "a%7Eb");
  CHECK(named_properties_key("k~0123") == "k~0123");
  CHECK(named_properties_key("k~%30123") == "k~0123");
  CHECK(named_properties_key("k~0123~") == "k~0123");
  CHECK(named_properties_key("k~") == "k");
  CHECK(named_properties_key("~") == "~");
  CHECK(named_properties_key("~0123") == "~0123");
  CHECK_FALSE(named_properties_key("k~0123~x").has_value());
  CHECK_FALSE(named_properties_key("k~~").has_value());
  CHECK_FALSE(named_properties_key("~~").has_value());
  CHECK_FALSE(named_properties_key("").has_value());
}

TEST_CASE("every listed properties key names its binding again when sent through encodeURIComponent") {
  for (const char* routing_key : {"a.*", "a.#", "a b", "a+b", "a/b", "a%b", "%2A", "a%7Eb", "a~b", "~", "+", "%",
                                  "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", ""}) {
    CAPTURE(routing_key);
    std::string listed = properties_key(binding{{}, routing_key, {}});
    // encodeURIComponent, then the router's decoding, give the listed key back
    CHECK(named_properties_key(*percent_decode(percent_encode(listed))) == listed);
  }
}

TEST_CASE("split_path decodes after splitting, so %2F stays inside a segment") {
  CHECK(split_path("/api/queues/%2F/q") == std::vector<std::string>{"api", "queues", "/", "q"});
  CHECK(split_path("/api/queues/") == std::vector<std::string>{"api", "queues"});
  CHECK(split_path("/") == std::vector<std::string>{});
  CHECK_FALSE(split_path("/api//queues").has_value());
  CHECK_FALSE(split_path("/api/../etc").has_value());
  CHECK_FALSE(split_path("/api/%2e%2e/etc").has_value());
  CHECK_FALSE(split_path("/api/./x").has_value());
  CHECK_FALSE(split_path("/api/%G0").has_value());
}

TEST_CASE("router: captures, literal precedence by order, 405 with the allowed methods") {
  router<int> r;
  r.add("GET", "/api/queues", 1);
  r.add("GET", "/api/queues/:vhost", 2);
  r.add("GET", "/api/queues/:vhost/:name", 3);
  r.add("PUT", "/api/queues/:vhost/:name", 4);
  r.add("DELETE", "/api/queues/:vhost/:name", 5);
  r.add("DELETE", "/api/queues/:vhost/:name/contents", 6);

  auto m = r.find("GET", *split_path("/api/queues/%2F/my%20q"));
  REQUIRE(m);
  REQUIRE(m->handler != nullptr);
  CHECK(*m->handler == 3);
  CHECK(m->params.at("vhost") == "/");
  CHECK(m->params.at("name") == "my q");

  m = r.find("DELETE", *split_path("/api/queues/%2F/q/contents"));
  REQUIRE(m);
  CHECK(*m->handler == 6);

  m = r.find("POST", *split_path("/api/queues/%2F/q"));
  REQUIRE(m);
  CHECK(m->handler == nullptr);
  CHECK(m->allowed == "GET, PUT, DELETE");

  CHECK_FALSE(r.find("GET", *split_path("/api/nothing")));
  CHECK_FALSE(r.find("GET", *split_path("/api/queues/a/b/c/d")));
}

TEST_CASE("router: a literal segment beats a capture whatever the order, also for the 405") {
  router<int> r;
  r.add("GET", "/api/users/:user", 1);
  r.add("PUT", "/api/users/:user", 2);
  r.add("GET", "/api/users/without-permissions", 3);
  r.add("POST", "/api/users/bulk-delete", 4);
  CHECK(*r.find("GET", *split_path("/api/users/without-permissions"))->handler == 3);
  CHECK(*r.find("GET", *split_path("/api/users/alice"))->handler == 1);
  auto m = r.find("PUT", *split_path("/api/users/without-permissions"));
  REQUIRE(m);
  CHECK(m->handler == nullptr);
  CHECK(m->allowed == "GET");
  m = r.find("GET", *split_path("/api/users/bulk-delete"));
  REQUIRE(m);
  CHECK(m->handler == nullptr);
  CHECK(m->allowed == "POST");
  CHECK(*r.find("PUT", *split_path("/api/users/bulk"))->handler == 2);
}

TEST_CASE("query strings: '+' is a space, escapes decoded, bad escapes are 400") {
  auto q = parse_query("name=a+b%26c&sort=messages&flag&&x=");
  CHECK(q.at("name") == "a b&c");
  CHECK(q.at("sort") == "messages");
  CHECK(q.at("flag").empty());
  CHECK(q.at("x").empty());
  CHECK(status_of([] { parse_query("a=%zz"); }) == 400);
}

TEST_CASE("list options: page_size is bounded, numbers and flags are checked") {
  CHECK(status_of([] { parse_list_options({{"page_size", "501"}}); }) == 400);
  CHECK(status_of([] { parse_list_options({{"page_size", "0"}}); }) == 400);
  CHECK(status_of([] { parse_list_options({{"page", "-1"}}); }) == 400);
  CHECK(status_of([] { parse_list_options({{"page", "x"}}); }) == 400);
  CHECK(status_of([] { parse_list_options({{"sort_reverse", "yes"}}); }) == 400);
  auto o = parse_list_options({{"page", "2"}, {"page_size", "500"}, {"use_regex", "true"}});
  CHECK(o.page == 2u);
  CHECK(o.page_size == 500);
  CHECK(o.use_regex);
}

TEST_CASE("listing: filter by name (substring or regex), sort by nested fields, reverse") {
  json items = names({"beta", "alpha", "gamma", "alphabet"});
  CHECK(names_of(apply_listing(items, parse_list_options({{"name", "alpha"}}))) ==
        std::vector<std::string>{"alpha", "alphabet"});
  CHECK(names_of(apply_listing(items, parse_list_options({{"name", "^(beta|gamma)$"}, {"use_regex", "true"}}))) ==
        std::vector<std::string>{"beta", "gamma"});
  CHECK(status_of([&] { apply_listing(items, parse_list_options({{"name", "("}, {"use_regex", "true"}})); }) == 400);
  CHECK(names_of(apply_listing(items, parse_list_options({{"sort", "name"}}))) ==
        std::vector<std::string>{"alpha", "alphabet", "beta", "gamma"});
  CHECK(names_of(apply_listing(items, parse_list_options({{"sort", "stats.rate"}}))) ==
        std::vector<std::string>{"alphabet", "gamma", "alpha", "beta"});
  CHECK(names_of(apply_listing(items, parse_list_options({{"sort", "n"}, {"sort_reverse", "true"}}))) ==
        std::vector<std::string>{"alphabet", "gamma", "alpha", "beta"});
}

TEST_CASE("pagination: RabbitMQ's page object, and a page past the end is 400") {
  json items = json::array();
  for (int i = 0; i < 7; ++i) items.push_back(json{{"name", "q" + std::to_string(i)}});
  json page = apply_listing(items, parse_list_options({{"page", "2"}, {"page_size", "3"}, {"sort", "name"}}));
  CHECK(names_of(page["items"]) == std::vector<std::string>{"q3", "q4", "q5"});
  CHECK(page["page"] == 2);
  CHECK(page["page_count"] == 3);
  CHECK(page["page_size"] == 3);
  CHECK(page["item_count"] == 3);
  CHECK(page["filtered_count"] == 7);
  CHECK(page["total_count"] == 7);
  json filtered = apply_listing(items, parse_list_options({{"page", "1"}, {"name", "q1"}}));
  CHECK(filtered["filtered_count"] == 1);
  CHECK(filtered["total_count"] == 7);
  CHECK(status_of([&] { apply_listing(items, parse_list_options({{"page", "4"}, {"page_size", "3"}})); }) == 400);
  // An empty list still has a page 1.
  CHECK(apply_listing(json::array(), parse_list_options({{"page", "1"}}))["items"].empty());
}

TEST_CASE("columns keep only the listed (dotted) fields") {
  json items = json::array({json{{"name", "a"}, {"messages", 3}, {"stats", {{"rate", 1}, {"x", 2}}}}});
  json out = apply_listing(items, parse_list_options({{"columns", "name,stats.rate"}}));
  CHECK(out[0] == json{{"name", "a"}, {"stats", {{"rate", 1}}}});
}

TEST_CASE("base64 round trips and refuses garbage") {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    CHECK(base64_decode(base64_encode(s)) == s);
  CHECK(base64_encode("guest:guest") == "Z3Vlc3Q6Z3Vlc3Q=");
  CHECK(base64_decode("Z3Vlc3Q6Z3Vlc3Q") == "guest:guest");
  CHECK_FALSE(base64_decode("Z3V*").has_value());
  CHECK_FALSE(base64_decode("Z").has_value());
}

TEST_CASE("Basic auth: right credentials, guest only from loopback") {
  broker b{config{}};
  std::string good = "Basic " + base64_encode("guest:guest");
  std::string lower = "basic " + base64_encode("guest:guest");
  std::string bad = "Basic " + base64_encode("guest:nope");
  std::string no_colon = "Basic " + base64_encode("guest");
  CHECK(authenticate_basic(b, &good, true) == "guest");
  CHECK(authenticate_basic(b, &lower, true) == "guest");
  CHECK_FALSE(authenticate_basic(b, &good, false));
  CHECK_FALSE(authenticate_basic(b, &bad, true));
  CHECK_FALSE(authenticate_basic(b, &no_colon, true));
  CHECK_FALSE(authenticate_basic(b, nullptr, true));
  std::string bearer = "Bearer x";
  CHECK_FALSE(authenticate_basic(b, &bearer, true));
}

TEST_CASE("JSON bodies: strict fields and types, string forms of booleans and integers") {
  http_request req;
  req.body = R"({"durable": "true", "auto_delete": false, "count": "5", "n": 7, "arguments": {"x-max-length": 10}})";
  json body = parse_body(req);
  CHECK(bool_field(body, "durable", false));
  CHECK_FALSE(bool_field(body, "auto_delete", true));
  CHECK(int_field(body, "count", 0) == 5);
  CHECK(int_field(body, "n", 0) == 7);
  CHECK(bool_field(body, "missing", true));
  auto args = table_field(body, "arguments");
  REQUIRE(args.find("x-max-length") != nullptr);
  CHECK(*args.find("x-max-length")->get_if<std::int64_t>() == 10);
  CHECK(status_of([&] { check_fields(body, {"durable"}); }) == 400);
  CHECK(status_of([&] { bool_field(json{{"b", 1}}, "b", false); }) == 400);
  CHECK(status_of([&] { int_field(json{{"i", "5x"}}, "i", 0); }) == 400);
  CHECK(status_of([&] { table_field(json{{"arguments", 3}}, "arguments"); }) == 400);

  req.body = "{not json";
  CHECK(status_of([&] { parse_body(req); }) == 400);
  req.body = "[1, 2]";
  CHECK(status_of([&] { parse_body(req); }) == 400);
  req.body = "{}";
  req.headers["content-type"] = "application/x-www-form-urlencoded";
  CHECK(status_of([&] { parse_body(req); }) == 415);
  req.headers["content-type"] = "application/json; charset=utf-8";
  CHECK(parse_body(req).empty());
  req.body.clear();
  CHECK(parse_body(req).is_object());
}

TEST_CASE("field tables to JSON and back") {
  amqp::field_table t;
  t.set("s", std::string("x"));
  t.set("i", std::int32_t{-3});
  t.set("b", true);
  t.set("d", 2.5);
  t.set("a", amqp::field_array{std::int64_t{1}, std::string("y")});
  amqp::field_table inner;
  inner.set("k", std::string("v"));
  t.set("t", inner);
  t.set("v", amqp::void_value{});
  json j = to_json(t);
  CHECK(j == json{{"s", "x"}, {"i", -3}, {"b", true}, {"d", 2.5}, {"a", {1, "y"}}, {"t", {{"k", "v"}}}, {"v", nullptr}});
  amqp::field_table back = table_from_json(j, "arguments");
  CHECK(to_json(back) == j);
  CHECK(*back.find("i")->get_if<std::int64_t>() == -3);  // JSON integers come back as 64-bit
}

TEST_CASE("static files: index, content types, no way out of the directory") {
  auto dir = std::filesystem::temp_directory_path() / ("roost-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "js");
  std::ofstream(dir / "index.html") << "<html>";
  std::ofstream(dir / "js" / "app.js") << "export {}";
  std::ofstream(dir / ".secret") << "no";
  std::string root = dir.string();
  auto index = serve_static(root, "/");
  CHECK(index.body == "<html>");
  CHECK(index.content_type == "text/html; charset=utf-8");
  auto js = serve_static(root, "/js/app.js");
  CHECK(js.body == "export {}");
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(status_of([&] { serve_static(root, "/../etc/passwd"); }) == 400);
  CHECK(status_of([&] { serve_static(root, "/js/%2e%2e/%2e%2e/etc/passwd"); }) == 400);
  CHECK(status_of([&] { serve_static(root, "/js%2F..%2F..%2Fetc/passwd"); }) == 404);
  CHECK(status_of([&] { serve_static(root, "/.secret"); }) == 404);
  CHECK(status_of([&] { serve_static(root, "/js"); }) == 404);  // a directory
  CHECK(status_of([&] { serve_static(root, "/missing.css"); }) == 404);
  CHECK(content_type_for("a.css") == "text/css; charset=utf-8");
  CHECK(content_type_for("a.bin") == "application/octet-stream");
  std::filesystem::remove_all(dir);
}
