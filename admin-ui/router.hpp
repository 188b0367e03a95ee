// Path patterns for the admin API: "/api/queues/:vhost/:name" matches
// "/api/queues/%2F/orders" with vhost = "/" and name = "orders".
//
// The raw path is split on '/' first and each segment percent-decoded after,
// so an encoded slash (%2F, the default vhost) stays inside its segment.
// Patterns and their handlers live in a route table (api.cpp); the router
// itself knows nothing about the API. Pure code, no I/O.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roost::admin {

// Decodes %XX escapes ('+' stays '+': it is a literal in paths). Returns
// nothing for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text);
// Encodes everything but unreserved characters (RFC 3986), as RabbitMQ's
// API does for names in Location headers and properties keys.
std::string percent_encode(std::string_view text);

// Splits "/a/b%2Fc/" into decoded segments {"a", "b/c"} (a trailing slash
// is ignored). Returns nothing for a bad escape, an empty segment in the
// middle, or a "." / ".." segment (before or after decoding).
std::optional<std::vector<std::string>> split_path(std::string_view path);

using route_params = std::map<std::string, std::string, std::less<>>;

template <class Handler>
class router {
 public:
  struct match {
    const Handler* handler = nullptr;  // null: the path matched but not the method
    route_params params;
    std::string allowed;  // "GET, PUT" when the method did not match
  };

  // pattern: "/api/queues/:vhost/:name"; a segment starting with ':' captures.
  void add(std::string_view method, std::string_view pattern, Handler h) {
    auto segments = split_path(pattern);
    routes_.push_back(route{std::string(method), segments.value_or(std::vector<std::string>{}), std::move(h)});
  }

  // Nothing when no pattern matches the path; a match without handler when
  // only the method is wrong (405 with the allowed methods). A literal
  // segment beats a capture, whatever the order of registration, so that
  // "/api/users/without-permissions" is its own resource and never the user
  // of that name (PUT on it is 405, as in RabbitMQ). O(routes) per request.
  std::optional<match> find(std::string_view method, const std::vector<std::string>& segments) const {
    std::vector<const route*> best;
    for (const route& r : routes_) {
      if (!matches(r.segments, segments)) continue;
      if (!best.empty() && more_literal(best.front()->segments, r.segments)) continue;
      if (!best.empty() && more_literal(r.segments, best.front()->segments)) best.clear();
      best.push_back(&r);
    }
    if (best.empty()) return std::nullopt;
    match m;
    for (const route* r : best) {
      if (r->method == method) {
        capture(r->segments, segments, m.params);
        m.handler = &r->handler;
        m.allowed.clear();
        return m;
      }
      if (m.allowed.find(r->method) == std::string::npos) m.allowed += (m.allowed.empty() ? "" : ", ") + r->method;
    }
    return m;
  }

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };

  static bool is_capture(const std::string& segment) { return !segment.empty() && segment[0] == ':'; }

  static bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
    if (pattern.size() != path.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i)
      if (!is_capture(pattern[i]) && pattern[i] != path[i]) return false;
    return true;
  }

  static void capture(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                      route_params& params) {
    for (std::size_t i = 0; i < pattern.size(); ++i)
      if (is_capture(pattern[i])) params[pattern[i].substr(1)] = path[i];
  }

  // a has a literal where b captures at the first segment where they differ in kind.
  static bool more_literal(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (is_capture(a[i]) != is_capture(b[i])) return !is_capture(a[i]);
    return false;
  }

  std::vector<route> routes_;
};

}  // namespace roost::admin
