// The admin HTTP API's request path as the Beast session hands it over:
// router, percent-decoding, query strings, Basic auth, every handler and its
// JSON body, definitions import, the static files.
//
// Input: one or more requests separated by a line "===", each a first line
// "METHOD TARGET" and a body (everything after it). A method written
// "@METHOD" arrives over the control socket (no login, acting as the
// operator); the others carry guest's Basic credentials. All requests of
// one input go to one fresh broker, in order, so a request can act on what
// an earlier one declared.
//
// Checked: nothing throws out of handle_request (it is the one place
// errors become statuses), every status is a real one, and no answer ever
// carries a file from outside the static directory, however the path is
// escaped.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "admin-ui/api.hpp"
#include "broker/common/base64.hpp"
#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "fuzz/check.hpp"

namespace {

namespace fs = std::filesystem;
using namespace roost;

constexpr std::string_view separator = "\n===\n";
constexpr std::string_view secret = "fuzz-secret-outside-the-static-dir";
constexpr std::size_t max_requests = 16;

// <tmp>/static/index.html is the dashboard; <tmp>/secret.txt must never be served.
struct static_site {
  fs::path root;
  static_site() {
    std::string pattern = (fs::temp_directory_path() / "roost-fuzz-http-XXXXXX").string();
    roost::fuzz::require(::mkdtemp(pattern.data()) != nullptr, "a temporary directory");
    root = pattern;
    fs::create_directories(root / "static" / "js");
    std::ofstream(root / "static" / "index.html") << "<!doctype html><title>roost</title>";
    std::ofstream(root / "static" / "js" / "app.js") << "export {};";
    std::ofstream(root / "secret.txt") << secret;
  }
  ~static_site() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string dir() const { return (root / "static").string(); }
};

admin::http_request parse(std::string_view text) {
  admin::http_request req;
  std::string_view line = text.substr(0, text.find('\n'));
  req.body = text.size() > line.size() ? std::string(text.substr(line.size() + 1)) : std::string();
  std::size_t space = line.find(' ');
  req.method = std::string(line.substr(0, space));
  req.target = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  if (req.method.starts_with('@')) {
    req.method.erase(0, 1);
    req.origin = admin::request_origin::control_socket;
  } else {
    req.headers["authorization"] = "Basic " + base64_encode("guest:guest");
  }
  if (!req.body.empty()) req.headers["content-type"] = "application/json";
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::level::error);  // a handler's info lines would drown libFuzzer's
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const static_site site;
  broker b{config{}};
  admin::admin_context ctx{b, {{"amqp", "127.0.0.1", 5672}, {"http", "127.0.0.1", 15672}}, site.dir()};
  const std::string_view whole_input(reinterpret_cast<const char*>(data), size);
  std::string_view input = whole_input;
  for (std::size_t n = 0; n < max_requests && !input.empty(); ++n) {
    std::size_t end = input.find(separator);
    std::string_view request = input.substr(0, end);
    admin::http_response r = admin::handle_request(parse(request), ctx);
    if (r.later) {  // a stream browse: without a store it answers at once, as the server waits for
      auto later = std::move(r.later);
      bool answered = false;
      later([&](admin::http_response given) {
        r = std::move(given);
        answered = true;
      });
      roost::fuzz::require(answered, "an answer that needs no store comes at once");
    }
    roost::fuzz::require(r.status >= 100 && r.status <= 599, "a response has a real HTTP status");
    // (Responses quote the input, which may carry the secret's text itself:
    // an error reason, or a queue an earlier request named after it.)
    bool served_secret = r.body.find(secret) != std::string::npos && whole_input.find(secret) == std::string_view::npos;
    roost::fuzz::require(!served_secret, "nothing outside the static dir is served");
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + separator.size());
  }
  return 0;
}
