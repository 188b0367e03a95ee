// roostctl's commands (ctl/verbs.hpp, verb_table.cpp, multi_step*.cpp)
// against a scripted broker: every verb sends the admin API requests it
// should (method, path, body), prints what rabbitmqctl 3.10 prints, and
// ends with rabbitmqctl's text and exit code when refused. No sockets.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "ctl/arguments.hpp"
#include "ctl/verbs.hpp"

using namespace roost::ctl;
using nlohmann::json;

namespace {

// The broker and the files as a command sees them: replies scripted by
// method and target; anything else is 204 for a change and 200 [] for a
// GET, but 404 for what missing() names.
struct scripted_environment : environment {
  std::map<std::pair<std::string, std::string>, api_reply> replies;
  std::vector<api_request> sent;
  std::map<std::string, std::string> files;
  std::string password_line;
  bool broker_running = true;
  bool connected = false;

  void reply(const std::string& method, const std::string& target, int status, const json& body = nullptr) {
    replies[{method, target}] = api_reply{status, body.is_null() ? "" : body.dump()};
  }
  void missing(const std::string& target) {
    reply("GET", target, 404, json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  }
  void connect() override {
    if (!broker_running) cannot(exit_code::unavailable, "unable to perform an operation: no broker");
    connected = true;
  }
  api_reply call(const api_request& request) override {
    REQUIRE(connected);
    sent.push_back(request);
    auto it = replies.find({request.method, request.target});
    if (it != replies.end()) return it->second;
    return request.method == "GET" ? api_reply{200, "[]"} : api_reply{204, ""};
  }
  std::string read_file(const std::string& path) override { return files.at(path); }
  bool exists(const std::string& path) override { return path == "." || files.contains(path); }
  std::string read_password() override { return password_line; }
  void write_file(const std::string& path, const std::string& content) override { files[path] = content; }
};

outcome run(scripted_environment& env, std::vector<std::string> argv) {
  return execute(parse_arguments(argv), env);
}

// A request as the test expects it: the body compared as JSON, not as text.
struct expected {
  std::string method;
  std::string target;
  json body = nullptr;
};

void check_sent(const scripted_environment& env, const std::vector<expected>& want) {
  REQUIRE_MESSAGE(env.sent.size() == want.size(), "sent " << env.sent.size() << " requests");
  for (std::size_t i = 0; i < want.size(); ++i) {
    const api_request& got = env.sent[i];
    CHECK(got.method == want[i].method);
    CHECK(got.target == want[i].target);
    json body = got.body.empty() ? json() : json::parse(got.body);
    CHECK_MESSAGE(body == want[i].body, got.method << " " << got.target << ": " << got.body);
  }
}

// One command line, the replies it needs beyond the defaults, and the requests it must send.
struct verb_case {
  std::vector<std::string> argv;
  std::vector<std::pair<expected, api_reply>> scripted;  // replies to give (body text)
  std::vector<expected> requests;
};

api_reply ok(const json& body) { return api_reply{200, body.dump()}; }

const json user_bob{{"name", "bob"},
                    {"tags", {"monitoring", "management"}},
                    {"password_hash", "SGFzaA=="},
                    {"hashing_algorithm", "rabbit_password_hashing_sha256"}};

std::vector<verb_case> verb_cases() {
  json policy{{"pattern", "^t\\."}, {"definition", {{"message-ttl", 60000}}}, {"priority", 2}, {"apply-to", "queues"}};
  json default_policy{{"pattern", "^m"}, {"definition", {{"max-length", 5}}}, {"priority", 0}, {"apply-to", "all"}};
  return {
      {{"help"}, {}, {}},
      {{"add_user", "bob", "s3cret"},
       {{{"GET", "/api/users/bob"}, api_reply{404, ""}}},
       {{"GET", "/api/users/bob"}, {"PUT", "/api/users/bob", {{"password", "s3cret"}, {"tags", ""}}}}},
      {{"delete_user", "bob"}, {}, {{"DELETE", "/api/users/bob"}}},
      {{"change_password", "bob", "new"},
       {{{"GET", "/api/users/bob"}, ok(user_bob)}},
       {{"GET", "/api/users/bob"},
        {"PUT", "/api/users/bob", {{"password", "new"}, {"tags", "monitoring,management"}}}}},
      {{"set_user_tags", "bob", "administrator", "monitoring"},
       {{{"GET", "/api/users/bob"}, ok(user_bob)}},
       {{"GET", "/api/users/bob"},
        {"PUT", "/api/users/bob",
         {{"tags", "administrator,monitoring"},
          {"password_hash", "SGFzaA=="},
          {"hashing_algorithm", "rabbit_password_hashing_sha256"}}}}},
      {{"list_users"}, {}, {{"GET", "/api/users"}}},
      {{"set_user_limits", "bob", "{\"max-connections\": 2}"},
       {{{"GET", "/api/user-limits/bob"}, ok(json::array())}},
       {{"GET", "/api/user-limits/bob"}, {"PUT", "/api/user-limits/bob/max-connections", {{"value", 2}}}}},
      {{"clear_user_limits", "bob", "max-channels"}, {}, {{"DELETE", "/api/user-limits/bob/max-channels"}}},
      {{"set_permissions", "-p", "shop", "bob", "^app", ".*", "^$"},
       {},
       {{"PUT", "/api/permissions/shop/bob", {{"configure", "^app"}, {"write", ".*"}, {"read", "^$"}}}}},
      {{"clear_permissions", "-p", "shop", "bob"}, {}, {{"DELETE", "/api/permissions/shop/bob"}}},
      {{"list_permissions", "-p", "shop"}, {}, {{"GET", "/api/vhosts/shop/permissions"}}},
      {{"list_user_permissions", "bob"}, {}, {{"GET", "/api/users/bob/permissions"}}},
      {{"set_topic_permissions", "bob", "amq.topic", "^w", "^r"},
       {},
       {{"PUT", "/api/topic-permissions/%2F/bob", {{"exchange", "amq.topic"}, {"write", "^w"}, {"read", "^r"}}}}},
      {{"clear_topic_permissions", "bob"}, {}, {{"DELETE", "/api/topic-permissions/%2F/bob"}}},
      {{"list_topic_permissions"}, {}, {{"GET", "/api/vhosts/%2F/topic-permissions"}}},
      {{"list_vhosts", "name", "tracing"}, {}, {{"GET", "/api/vhosts"}}},
      {{"list_queues", "-p", "a/b", "name"}, {}, {{"GET", "/api/queues/a%2Fb"}}},
      {{"list_exchanges"}, {}, {{"GET", "/api/exchanges/%2F"}}},
      {{"list_bindings", "-p", "shop"}, {}, {{"GET", "/api/bindings/shop"}}},
      {{"list_connections"}, {}, {{"GET", "/api/connections"}}},
      {{"list_channels"}, {}, {{"GET", "/api/channels"}}},
      {{"list_consumers"}, {}, {{"GET", "/api/consumers/%2F"}}},
      {{"status"},
       {{{"GET", "/api/overview"}, ok(json::object())}, {{"GET", "/api/vhosts"}, ok(json::array())}},
       {{"GET", "/api/overview"}, {"GET", "/api/health/checks/alarms"}, {"GET", "/api/vhosts"}}},
      {{"set_policy", "-p", "shop", "--priority", "2", "--apply-to", "queues", "ttl", "^t\\.",
        "{\"message-ttl\": 60000}"},
       {},
       {{"PUT", "/api/policies/shop/ttl", policy}}},
      {{"clear_policy", "ttl"}, {}, {{"DELETE", "/api/policies/%2F/ttl"}}},
      {{"list_policies", "-p", "shop"}, {}, {{"GET", "/api/policies/shop"}}},
      {{"set_operator_policy", "cap", "^m", "{\"max-length\": 5}"},
       {},
       {{"PUT", "/api/operator-policies/%2F/cap", default_policy}}},
      {{"clear_operator_policy", "cap"}, {}, {{"DELETE", "/api/operator-policies/%2F/cap"}}},
      {{"list_operator_policies"}, {}, {{"GET", "/api/operator-policies/%2F"}}},
      {{"add_vhost", "shop"},
       {{{"GET", "/api/vhosts/shop"}, api_reply{404, ""}}},
       {{"GET", "/api/vhosts/shop"}, {"PUT", "/api/vhosts/shop", json::object()}}},
      {{"delete_vhost", "shop"}, {}, {{"DELETE", "/api/vhosts/shop"}}},
      {{"set_vhost_limits", "-p", "shop", "{\"max-queues\": 4}"},
       {{{"GET", "/api/vhost-limits/shop"},
         ok(json::array({{{"vhost", "shop"}, {"value", {{"max-connections", 9}}}}}))}},
       {{"GET", "/api/vhost-limits/shop"},
        {"PUT", "/api/vhost-limits/shop/max-queues", {{"value", 4}}},
        {"DELETE", "/api/vhost-limits/shop/max-connections"}}},
      {{"clear_vhost_limits", "-p", "shop"},
       {{{"GET", "/api/vhost-limits/shop"}, ok(json::array({{{"vhost", "shop"}, {"value", {{"max-queues", 4}}}}}))}},
       {{"GET", "/api/vhost-limits/shop"}, {"DELETE", "/api/vhost-limits/shop/max-queues"}}},
      {{"export_definitions", "defs.json"},
       {{{"GET", "/api/definitions"}, ok(json{{"users", json::array()}})}},
       {{"GET", "/api/definitions"}}},
      {{"import_definitions", "in.json"}, {}, {{"POST", "/api/definitions", {{"vhosts", json::array()}}}}},
      {{"close_connection", "127.0.0.1:5000 -> 127.0.0.1:5672", "maintenance"},
       {},
       {{"DELETE", "/api/connections/127.0.0.1%3A5000%20-%3E%20127.0.0.1%3A5672"}}},
      {{"delete_queue", "-p", "shop", "orders"},
       {{{"GET", "/api/queues/shop/orders"}, ok(json{{"messages_ready", 3}})}},
       {{"GET", "/api/queues/shop/orders"}, {"DELETE", "/api/queues/shop/orders"}}},
      {{"purge_queue", "orders"}, {}, {{"DELETE", "/api/queues/%2F/orders/contents"}}},
      {{"list_messages", "orders", "state=ready", "header.a b=x/y"},
       {{{"GET", "/api/queues/%2F/orders/messages?state=ready&header.a%20b=x%2Fy"}, ok(json::object())}},
       {{"GET", "/api/queues/%2F/orders/messages?state=ready&header.a%20b=x%2Fy"}}},
      {{"delete_messages", "orders", "17", "18"},
       {{{"POST", "/api/queues/%2F/orders/messages/delete"}, ok(json::object())}},
       {{"POST", "/api/queues/%2F/orders/messages/delete", {{"ids", {"17", "18"}}}}}},
      {{"move_messages", "-p", "shop", "orders", "retry", "type=odd", "max=5"},
       {{{"POST", "/api/queues/shop/orders/messages/move"}, ok(json::object())}},
       {{"POST", "/api/queues/shop/orders/messages/move",
         {{"filter", {{"type", "odd"}}}, {"max", 5}, {"queue", "retry"}}}}},
      {{"redrive", "dlq", "reason=rejected", "max_rate=50"},
       {{{"POST", "/api/queues/%2F/dlq/redrive"}, ok(json{{"state", "running"}})}},
       {{"POST", "/api/queues/%2F/dlq/redrive", {{"reason", "rejected"}, {"max_rate", 50}}}}},
      {{"redrive_status", "dlq"},
       {{{"GET", "/api/queues/%2F/dlq/redrive"}, ok(json{{"run", nullptr}, {"origins", json::array()}})}},
       {{"GET", "/api/queues/%2F/dlq/redrive"}}},
      {{"list_scheduled", "later", "message_id=m1"},
       {{{"GET", "/api/scheduled/%2F/later?message_id=m1"}, ok(json{{"messages", json::array()}})}},
       {{"GET", "/api/scheduled/%2F/later?message_id=m1"}}},
      {{"cancel_scheduled", "exchange=later", "type=t"},
       {{{"POST", "/api/scheduled/%2F/cancel"}, ok(json{{"cancelled", 1}})}},
       {{"POST", "/api/scheduled/%2F/cancel", {{"exchange", "later"}, {"filter", {{"type", "t"}}}}}}},
  };
}

}  // namespace

TEST_CASE("ctl verbs: every verb sends its admin API requests (method, path, body)") {
  std::set<std::string> covered;
  for (const verb_case& c : verb_cases()) {
    CAPTURE(c.argv[0]);
    scripted_environment env;
    env.files["in.json"] = R"({"vhosts": []})";
    for (const auto& [request, reply] : c.scripted) env.replies[{request.method, request.target}] = reply;
    outcome o = run(env, c.argv);
    CHECK_MESSAGE(o.exit_code == 0, o.err);
    check_sent(env, c.requests);
    covered.insert(c.argv[0]);
  }
  for (const verb& v : verbs()) CHECK_MESSAGE(covered.contains(std::string(v.name)), v.name << " has no case");
}

TEST_CASE("ctl verbs: the table is complete: every command has a group, a summary, and a request or a run") {
  std::set<std::string_view> names;
  for (const verb& v : verbs()) {
    CAPTURE(v.name);
    CHECK(names.insert(v.name).second);
    CHECK_FALSE(v.group.empty());
    CHECK_FALSE(v.summary.empty());
    CHECK(v.min_args <= v.max_args);
    bool one_request = !v.method.empty() && !v.path.empty();
    CHECK((v.name == "help" || one_request != (v.run != nullptr)));
    CHECK(find_verb(v.name) == &v);
  }
  for (std::string_view required :
       {"add_user", "delete_user", "change_password", "set_user_tags", "list_users", "add_vhost", "delete_vhost",
        "list_vhosts", "set_permissions", "clear_permissions", "list_permissions", "set_topic_permissions",
        "set_policy", "clear_policy", "list_policies", "set_vhost_limits", "set_user_limits", "list_queues",
        "list_exchanges", "list_bindings", "list_connections", "close_connection", "purge_queue", "delete_queue",
        "export_definitions", "import_definitions", "status"})
    CHECK_MESSAGE(names.contains(required), required);
  CHECK(find_verb("frobnicate") == nullptr);
}

TEST_CASE("ctl verbs: a list prints rabbitmqctl's lines: informational first, then the header and the rows") {
  scripted_environment env;
  env.reply("GET", "/api/queues/%2F", 200,
            json::array({{{"name", "q1"}, {"messages", 3}, {"durable", true}, {"arguments", {{"x-max-length", 10}}}}}));
  outcome o = run(env, {"list_queues"});
  CHECK(o.out == "Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages\nq1\t3\n");
  CHECK(o.err.empty());
  CHECK(run(env, {"-q", "list_queues", "name,durable", "arguments"}).out ==
        "name\tdurable\targuments\nq1\ttrue\t[{\"x-max-length\",10}]\n");
  CHECK(run(env, {"-s", "list_queues"}).out == "q1\t3\n");
  CHECK(run(env, {"list_queues", "--no-table-headers", "-t", "5"}).out ==
        "Timeout: 5.0 seconds ...\nListing queues for vhost / ...\nq1\t3\n");
  // An empty list: nothing, but one empty line for permissions and policies, as rabbitmqctl 3.10.
  CHECK(run(env, {"-q", "list_exchanges"}).out.empty());
  CHECK(run(env, {"-q", "list_permissions"}).out == "\n");
  CHECK(run(env, {"-q", "list_policies"}).out == "\n");
}

TEST_CASE("ctl verbs: changes print rabbitmqctl's informational line, -q drops it") {
  scripted_environment env;
  CHECK(run(env, {"set_permissions", "-p", "shop", "bob", ".*", ".*", ".*"}).out ==
        "Setting permissions for user \"bob\" in vhost \"shop\" ...\n");
  CHECK(run(env, {"--quiet", "delete_user", "bob"}).out.empty());
  env.reply("GET", "/api/users/bob", 200, user_bob);
  CHECK(run(env, {"set_user_tags", "bob"}).out == "Setting tags for user \"bob\" to [] ...\n");
}

TEST_CASE("ctl verbs: add_user refuses an existing user (70) and takes the password from standard input") {
  scripted_environment env;
  env.reply("GET", "/api/users/bob", 200, user_bob);
  outcome exists = run(env, {"add_user", "bob", "pw"});
  CHECK(exists.exit_code == 70);
  CHECK(exists.err == "Error:\nUser \"bob\" already exists\n");
  CHECK(env.sent.size() == 1);  // no PUT

  scripted_environment fresh;
  fresh.missing("/api/users/carol");
  fresh.missing("/api/users/dave");
  fresh.password_line = "from-stdin";
  outcome added = run(fresh, {"add_user", "carol"});
  CHECK(added.exit_code == 0);
  CHECK(json::parse(fresh.sent.back().body)["password"] == "from-stdin");
  fresh.password_line.clear();
  outcome none = run(fresh, {"add_user", "dave"});
  CHECK(none.exit_code == 65);
  CHECK(none.err == "Error:\nPassword is not provided via argument or stdin\n");
}

TEST_CASE("ctl verbs: a missing user or vhost reads as rabbitmqctl reads it, per command") {
  scripted_environment env;
  env.reply("PUT", "/api/permissions/nope/bob", 400,
            json{{"error", "bad_request"}, {"reason", "vhost_or_user_not_found"}});
  env.reply("PUT", "/api/permissions/shop/nobody", 400,
            json{{"error", "bad_request"}, {"reason", "vhost_or_user_not_found"}});
  for (const char* target : {"/api/users/nobody", "/api/vhosts/nope", "/api/vhosts/nope/permissions",
                             "/api/exchanges/nope", "/api/queues/%2F/nope"})
    env.missing(target);
  env.reply("DELETE", "/api/users/nobody", 404, json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  env.reply("DELETE", "/api/vhosts/nope", 404, json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  env.reply("DELETE", "/api/policies/shop/nope", 404, json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  env.reply("DELETE", "/api/permissions/shop/bob", 404, json{{"error", "Object Not Found"}, {"reason", "Not Found"}});
  auto check = [&](std::vector<std::string> argv, int code, const std::string& err) {
    outcome o = run(env, argv);
    CHECK_MESSAGE(o.exit_code == code, argv[0] << ": " << o.err);
    CHECK(o.err == err);
  };
  check({"delete_user", "nobody"}, 67, "Error:\nUser \"nobody\" does not exist\n");
  check({"set_permissions", "-p", "nope", "bob", ".*", ".*", ".*"}, 69, "Error:\nVirtual host nope does not exist\n");
  check({"set_permissions", "-p", "shop", "nobody", ".*", ".*", ".*"}, 67, "Error:\nUser nobody does not exist\n");
  check({"list_permissions", "-p", "nope"}, 65, "Virtual host 'nope' does not exist\n");
  check({"delete_vhost", "nope"}, 65, "Virtual host 'nope' does not exist\n");
  check({"clear_policy", "-p", "shop", "nope"}, 69, "Error:\nParameter does not exist\n");
  check({"delete_queue", "nope"}, 64, "Error:\nQueue not found\n");
  // rabbitmqctl lists nothing for a missing vhost, and clearing what is not there succeeds.
  outcome listed = run(env, {"list_exchanges", "-p", "nope"});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out == "Listing exchanges for vhost nope ...\n");
  CHECK(listed.err.empty());
  CHECK(run(env, {"clear_permissions", "-p", "shop", "bob"}).exit_code == 0);
}

TEST_CASE("ctl verbs: any other refusal is the broker's reason with exit 69, a broker failure 70") {
  scripted_environment env;
  env.reply("PUT", "/api/permissions/%2F/bob", 400,
            json{{"error", "bad_request"}, {"reason", {"invalid_regexp", "(", "missing )"}}});
  outcome bad = run(env, {"set_permissions", "bob", "(", ".*", ".*"});
  CHECK(bad.exit_code == 69);
  CHECK(bad.err == "Error:\n[\"invalid_regexp\",\"(\",\"missing )\"]\n");
  // Policy reasons come HTML-escaped, as from RabbitMQ's API; rabbitmqctl prints them raw.
  env.reply("PUT", "/api/policies/%2F/p", 400,
            json{{"error", "bad_request"},
                 {"reason", "Validation failed\n\n[{&lt;&lt;\"foo\"&gt;&gt;,1}] &amp; more\n"}});
  CHECK(run(env, {"-q", "set_policy", "p", ".*", "{\"foo\": 1}"}).err ==
        "Error:\nValidation failed\n\n[{<<\"foo\">>,1}] & more\n\n");
  env.reply("GET", "/api/users", 500, json{{"error", "internal"}, {"reason", "disk on fire"}});
  outcome broken = run(env, {"list_users"});
  CHECK(broken.exit_code == 70);
  CHECK(broken.err == "Error:\ndisk on fire\n");
}

TEST_CASE("ctl verbs: JSON arguments that do not parse are refused before any change") {
  scripted_environment env;
  outcome o = run(env, {"set_policy", "p", ".*", "{not json"});
  CHECK(o.exit_code == 69);
  CHECK(o.err == "Error:\nJSON decoding error. Reason: badarg\n");
  CHECK(env.sent.empty());
  CHECK(run(env, {"set_vhost_limits", "[1]"}).err ==
        "Error:\nlimits must be a JSON object, such as {\"max-connections\": 10}\n");
}

TEST_CASE("ctl verbs: a refused limit puts back the limits there before, so nothing changes") {
  scripted_environment env;
  env.reply("GET", "/api/vhost-limits/%2F", 200, json::array({{{"vhost", "/"}, {"value", {{"max-queues", 4}}}}}));
  env.reply("PUT", "/api/vhost-limits/%2F/zzz", 400, json{{"error", "bad_request"}, {"reason", "Unrecognised"}});
  outcome o = run(env, {"set_vhost_limits", "{\"max-connections\": 5, \"zzz\": 1}"});
  CHECK(o.exit_code == 69);
  check_sent(env, {{"GET", "/api/vhost-limits/%2F"},
                   {"PUT", "/api/vhost-limits/%2F/max-connections", {{"value", 5}}},
                   {"PUT", "/api/vhost-limits/%2F/zzz", {{"value", 1}}},
                   {"PUT", "/api/vhost-limits/%2F/max-queues", {{"value", 4}}},
                   {"DELETE", "/api/vhost-limits/%2F/max-connections"},
                   {"DELETE", "/api/vhost-limits/%2F/zzz"},
                   {"GET", "/api/vhosts/%2F"}});
}

TEST_CASE("ctl verbs: set_user_limits keeps the limits it does not name, as rabbitmqctl 3.10 does") {
  scripted_environment env;
  env.reply("GET", "/api/user-limits/bob", 200, json::array({{{"user", "bob"}, {"value", {{"max-channels", 3}}}}}));
  CHECK(run(env, {"set_user_limits", "bob", "{\"max-connections\": 2}"}).exit_code == 0);
  check_sent(env, {{"GET", "/api/user-limits/bob"}, {"PUT", "/api/user-limits/bob/max-connections", {{"value", 2}}}});
}

TEST_CASE("ctl verbs: clear_topic_permissions on one exchange puts the user's others back") {
  scripted_environment env;
  env.reply("GET", "/api/topic-permissions/%2F/bob", 200,
            json::array({{{"exchange", "amq.topic"}, {"write", "a"}, {"read", "b"}},
                         {{"exchange", "logs"}, {"write", "c"}, {"read", "d"}}}));
  outcome o = run(env, {"clear_topic_permissions", "bob", "amq.topic"});
  CHECK(o.out == "Clearing topic permissions on \"amq.topic\" for user \"bob\" in vhost \"/\" ...\n");
  check_sent(env, {{"GET", "/api/topic-permissions/%2F/bob"},
                   {"DELETE", "/api/topic-permissions/%2F/bob"},
                   {"PUT", "/api/topic-permissions/%2F/bob", {{"exchange", "logs"}, {"write", "c"}, {"read", "d"}}}});
}

TEST_CASE("ctl verbs: delete_queue reports the ready messages, and refuses --if-empty / --if-unused itself") {
  scripted_environment env;
  env.reply("GET", "/api/queues/%2F/q", 200, json{{"messages_ready", 2}, {"consumers", 1}});
  outcome done = run(env, {"-q", "delete_queue", "q"});
  CHECK(done.out == "Queue was successfully deleted with 2 ready messages\n");
  env.sent.clear();
  outcome not_empty = run(env, {"delete_queue", "--if-empty", "q"});
  CHECK(not_empty.exit_code == 64);
  CHECK(not_empty.out == "Deleting queue 'q' on vhost '/' if queue is empty ...\n");
  CHECK(not_empty.err == "Error:\nQueue is not empty\n");
  CHECK(env.sent.size() == 1);  // the GET only
  outcome in_use = run(env, {"delete_queue", "-e", "-u", "q"});
  CHECK(in_use.out == "Deleting queue 'q' on vhost '/' if queue is empty and if queue is unused ...\n");
  CHECK(in_use.err == "Error:\nQueue is in use\n");
  env.reply("GET", "/api/queues/%2F/idle", 200, json{{"messages_ready", 0}, {"consumers", 0}});
  env.sent.clear();
  CHECK(run(env, {"delete_queue", "-e", "-u", "idle"}).exit_code == 0);
  CHECK(env.sent.back().target == "/api/queues/%2F/idle?if-empty=true&if-unused=true");
}

TEST_CASE("ctl verbs: close_connection sends its reason; export and import move the JSON to and from files") {
  scripted_environment env;
  run(env, {"close_connection", "c1", "maintenance window"});
  REQUIRE(env.sent.size() == 1);
  CHECK(env.sent[0].headers == std::vector<std::pair<std::string, std::string>>{{"X-Reason", "maintenance window"}});

  env.reply("GET", "/api/definitions", 200, json{{"vhosts", json::array({{{"name", "/"}}})}});
  outcome to_file = run(env, {"export_definitions", "out.json"});
  CHECK(to_file.out == "Exporting definitions in JSON to a file at \"out.json\" ...\n");
  CHECK(json::parse(env.files.at("out.json")) == json{{"vhosts", json::array({{{"name", "/"}}})}});
  outcome to_stdout = run(env, {"export_definitions", "-"});
  CHECK(json::parse(to_stdout.out) == json{{"vhosts", json::array({{{"name", "/"}}})}});

  env.files["bad.json"] = "{truncated";
  outcome bad = run(env, {"import_definitions", "bad.json"});
  CHECK(bad.exit_code == 65);
  CHECK(bad.err == "Error:\nFailed to deserialise input (format: JSON): not a JSON object\n");
  env.files["refused.json"] = R"({"queues": [{"name": "x"}]})";
  env.reply("POST", "/api/definitions", 400, json{{"error", "bad_request"}, {"reason", "field 'vhost' is required"}});
  outcome refused = run(env, {"import_definitions", "refused.json"});
  CHECK(refused.exit_code == 65);
  CHECK(refused.err == "Error:\nfield 'vhost' is required\n");
}

TEST_CASE("ctl verbs: missing files and directories are argument errors before the broker is reached") {
  scripted_environment env;
  env.broker_running = false;
  outcome in = run(env, {"import_definitions", "/nowhere/defs.json"});
  CHECK(in.exit_code == 65);
  CHECK(in.err.starts_with("Error (argument validation): Bad argument: File /nowhere/defs.json does not exist\n"));
  outcome out = run(env, {"export_definitions", "/nowhere/defs.json"});
  CHECK(out.exit_code == 65);
  CHECK(out.err.starts_with("Error (argument validation): Bad argument: Directory /nowhere does not exist\n"));
}

TEST_CASE("ctl verbs: argument errors are 64 with the command's usage, and need no broker") {
  scripted_environment env;
  env.broker_running = false;
  outcome few = run(env, {"set_permissions", "bob"});
  CHECK(few.exit_code == 64);
  CHECK(few.err.starts_with("Error (argument validation): not enough arguments.\n\nUsage\n\nroostctl "));
  CHECK(few.err.find("set_permissions [-p <vhost>] <username> <conf> <write> <read>") != std::string::npos);
  CHECK(run(env, {"list_users", "extra"}).err.starts_with("Error (argument validation): too many arguments."));
  CHECK(run(env, {"list_users", "-p", "shop"}).err.starts_with(
      "Error (argument validation): Invalid options for this command:\n-p : shop\n"));
  CHECK(run(env, {"list_queues", "--bogus"}).exit_code == 64);
  CHECK(run(env, {"list_queues", "bogus"}).err.starts_with("Error (argument validation): Info key(s) bogus"));
  CHECK(run(env, {"delete_user", "bob", "-e"}).err.find("--if-empty : ") != std::string::npos);
  CHECK(run(env, {"list_queues"}).out.empty());
}

TEST_CASE("ctl verbs: no broker on the data dir is exit 69 with nothing on standard output") {
  scripted_environment env;
  env.broker_running = false;
  outcome o = run(env, {"list_users"});
  CHECK(o.exit_code == 69);
  CHECK(o.out.empty());
  CHECK(o.err == "Error: unable to perform an operation: no broker\n");
}

TEST_CASE("ctl verbs: help, unknown commands, no command, --version") {
  scripted_environment env;
  env.broker_running = false;
  outcome help = run(env, {"help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("\n   set_permissions ") != std::string::npos);
  outcome one = run(env, {"help", "set_policy"});
  CHECK(one.out.find("--apply-to queues|exchanges|all") != std::string::npos);
  CHECK(run(env, {"list_queues", "--help"}).out.find("must be one of name, messages") != std::string::npos);
  outcome unknown = run(env, {"frobnicate"});
  CHECK(unknown.exit_code == 64);
  CHECK(unknown.err.starts_with("\nCommand 'frobnicate' not found.\n"));
  CHECK(run(env, {"help", "frobnicate"}).exit_code == 64);
  outcome nothing = run(env, {});
  CHECK(nothing.exit_code == 64);
  CHECK(nothing.out.empty());
  CHECK(nothing.err.find("Available commands:") != std::string::npos);
  CHECK(run(env, {"--version"}).out == "roostctl " ROOST_VERSION "\n");
}

TEST_CASE("ctl verbs: names are percent-encoded as one path segment each") {
  CHECK(percent_encode("/") == "%2F");
  CHECK(percent_encode("a b/c%d") == "a%20b%2Fc%25d");
  CHECK(percent_encode("Az09-._~") == "Az09-._~");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
  invocation inv = parse_arguments({"set_permissions", "-p", "a/b", "b o b", "c", "w", "r"});
  CHECK(expand("/api/permissions/{vhost}/{0}", inv, true) == "/api/permissions/a%2Fb/b%20o%20b");
  CHECK(expand("user \"{0}\" in {vhost}, {9}", inv, false) == "user \"b o b\" in a/b, ");
}
