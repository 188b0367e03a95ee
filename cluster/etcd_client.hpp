// A client for etcd's JSON gateway: one POST at a time per call, each on
// its own short TCP connection, with a deadline. Requests are rare (a
// lease keepalive every TTL/3, an election attempt, an ISR change), so a
// connection per request costs nothing and leaves no half-dead keep-alive
// connection to detect.
//
// Several endpoints (the members of an etcd cluster) are tried in turn: a
// request that fails moves the client to the next endpoint, and the caller
// retries on its own schedule. Runs on the io_context it is given.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roost::cluster {

struct etcd_endpoint {
  std::string host;
  std::string port;
  bool operator==(const etcd_endpoint&) const = default;
};

// "http://HOST:PORT[,http://HOST:PORT...]" (the scheme may be left out);
// an error text for anything else.
std::optional<std::string> parse_etcd_endpoints(std::string_view text, std::vector<etcd_endpoint>& out);

// failure: why there is no answer (unreachable, timed out, not HTTP 200
// and no JSON error); otherwise body is the answer, for etcd_messages.
struct etcd_answer {
  std::optional<std::string> failure;
  std::string body;
};

class etcd_client {
 public:
  // endpoints: at least one (parse_etcd_endpoints guarantees it).
  etcd_client(boost::asio::io_context& io, std::vector<etcd_endpoint> endpoints, std::chrono::milliseconds timeout);

  // POSTs body to path; never throws.
  boost::asio::awaitable<etcd_answer> call(std::string_view path, std::string body);

  boost::asio::io_context& context() { return io_; }

  // The endpoint the next request goes to, as "host:port" (for logs).
  std::string current_endpoint() const;

 private:
  boost::asio::io_context& io_;
  std::vector<etcd_endpoint> endpoints_;
  std::chrono::milliseconds timeout_;
  std::size_t current_ = 0;
};

}  // namespace roost::cluster
