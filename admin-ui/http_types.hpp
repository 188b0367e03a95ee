// Plain HTTP request and response values, independent of Beast.
//
// The HTTP server converts Beast's messages into these and back; everything
// else in admin-ui (router, handlers, error mapping) works on them, so it is
// tested without sockets and compiles without Beast's headers.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roost::admin {

// Where a request arrived. Over HTTP it must carry Basic credentials; over
// the control socket in the data dir (roostctl, curl --unix-socket) the
// socket file's mode has already decided who may connect, and the request
// acts as the operator, as rabbitmqctl does once the Erlang cookie matched.
enum class request_origin { http, control_socket };

struct http_request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // raw path and query, still percent-encoded
  // Header names in lower case.
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  // The client connects from a loopback address (guest may only log in from there).
  bool peer_is_loopback = true;
  request_origin origin = request_origin::http;

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
  // The request carried a valid login (or came through the control socket),
  // whatever the answer: the HTTP server trusts such a connection more.
  bool logged_in = false;
  // Set when the answer needs reads from the store (a stream browse): the
  // server calls it at once with a function that takes the final answer
  // (on the broker thread, maybe before `later` returns) and waits for it.
  std::function<void(std::function<void(http_response)>)> later;
};

}  // namespace roost::admin
