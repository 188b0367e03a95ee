// Plain HTTP request and response values, independent of Beast.
//
// The HTTP server converts Beast's messages into these and back; everything
// else in admin-ui (router, handlers, error mapping) works on them, so it is
// tested without sockets and compiles without Beast's headers.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roost::admin {

struct http_request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // raw path and query, still percent-encoded
  // Header names in lower case.
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  // The client connects from a loopback address (guest may only log in from there).
  bool peer_is_loopback = true;

  const std::string* header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace roost::admin
