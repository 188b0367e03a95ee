// One coroutine per request: resolve, connect, write, read, all under one
// deadline on the Beast stream.
#include "cluster/etcd_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace roost::cluster {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Answers are small (a lease, a few keys); a larger one is not etcd's.
constexpr std::size_t max_answer_bytes = 1 << 20;

struct request {
  etcd_endpoint endpoint;
  std::string path;
  std::string body;
  std::chrono::milliseconds timeout;
};

// The answer's body, or throws system_error / runtime_error with the reason.
asio::awaitable<std::string> exchange(request r) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  stream.expires_after(r.timeout);
  auto addresses = co_await resolver.async_resolve(r.endpoint.host, r.endpoint.port, asio::use_awaitable);
  co_await stream.async_connect(addresses, asio::use_awaitable);
  http::request<http::string_body> req{http::verb::post, r.path, 11};
  req.set(http::field::host, r.endpoint.host + ":" + r.endpoint.port);
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(r.body);
  req.prepare_payload();
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_answer_bytes);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  http::response<http::string_body> res = parser.release();
  // etcd's errors come as JSON with a 4xx/5xx status; etcd_messages reads
  // them. Anything else that is not 200 is not etcd.
  bool json = res[http::field::content_type].starts_with("application/json");
  if (res.result() != http::status::ok && !json)
    throw std::runtime_error("HTTP " + std::to_string(res.result_int()) + " from " + r.endpoint.host + ":" +
                             r.endpoint.port + r.path);
  std::string answer = std::move(res.body());
  co_return answer;
}

}  // namespace

std::optional<std::string> parse_etcd_endpoints(std::string_view text, std::vector<etcd_endpoint>& out) {
  out.clear();
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    std::string_view where = item;
    if (where.starts_with("http://")) where.remove_prefix(7);
    if (where.ends_with("/")) where.remove_suffix(1);
    std::size_t colon = where.rfind(':');
    bool port_ok = colon != std::string_view::npos && colon + 1 < where.size() && where.size() - colon - 1 <= 5;
    for (std::size_t i = colon + 1; port_ok && i < where.size(); ++i) port_ok = where[i] >= '0' && where[i] <= '9';
    if (!port_ok || colon == 0 || where.find('/') != std::string_view::npos)
      return "etcd endpoint '" + std::string(item) + "' is not http://HOST:PORT (https is not supported)";
    out.push_back({std::string(where.substr(0, colon)), std::string(where.substr(colon + 1))});
  }
  if (out.empty()) return std::string("no etcd endpoint given");
  return std::nullopt;
}

etcd_client::etcd_client(asio::io_context& io, std::vector<etcd_endpoint> endpoints, std::chrono::milliseconds timeout)
    : io_(io), endpoints_(std::move(endpoints)), timeout_(timeout) {}

std::string etcd_client::current_endpoint() const {
  const etcd_endpoint& e = endpoints_[current_];
  return e.host + ":" + e.port;
}

// Arguments and results are kept in named locals around each co_await:
// GCC 12 mishandles temporaries that live across one (a braced request
// built in the co_await expression was freed twice).
asio::awaitable<etcd_answer> etcd_client::call(std::string_view path, std::string body) {
  std::size_t used = current_;
  request r{endpoints_[used], std::string(path), std::move(body), timeout_};
  etcd_answer answer;
  try {
    answer.body = co_await exchange(std::move(r));
  } catch (const std::exception& e) {
    // The next request tries the next member of the etcd cluster.
    if (current_ == used) current_ = (current_ + 1) % endpoints_.size();
    answer.failure = e.what() + std::string(" (etcd at ") + endpoints_[used].host + ":" + endpoints_[used].port + ")";
  }
  co_return answer;
}

}  // namespace roost::cluster
