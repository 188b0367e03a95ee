// Beast lives here and only here (it is slow to compile). Each connection
// is one coroutine; a request is converted to http_request, answered by
// handle_request on the broker thread, and written back.
#include "admin-ui/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <unordered_set>

#include "admin-ui/api.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/rates.hpp"
#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "net/tcp_listener.hpp"

namespace roost::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto request_timeout = 30s;  // a whole request must arrive within this, and idle keep-alives end
constexpr auto write_timeout = 30s;
constexpr auto drain_timeout = 2s;
constexpr auto commit_timeout = 30s;

http_request to_request(const http::request<http::string_body>& in, bool loopback) {
  http_request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  r.body = in.body();
  r.peer_is_loopback = loopback;
  return r;
}

http::response<http::string_body> to_response(http_response in, unsigned version, bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(in.status), version};
  out.set(http::field::server, "Roost");
  if (!in.body.empty()) out.set(http::field::content_type, in.content_type);
  for (auto& [name, value] : in.headers) out.set(name, value);
  out.body() = std::move(in.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

}  // namespace

struct http_server::sessions {
  std::unordered_set<beast::tcp_stream*> open;
};

namespace {

// Reads and discards what a refused client is still sending, so that
// closing does not reset the connection before it reads our answer.
asio::awaitable<void> drain(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  char scratch[16384];
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::size_t drained = 0;
  while (!ec && drained < 2 * max_request_body && std::chrono::steady_clock::now() < deadline) {
    stream.expires_at(deadline);
    drained += co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
  }
}

bool changes_state(const http_request& req) { return req.method != "GET" && req.method != "HEAD"; }

// A change the API answers 2xx to is on disk (as --sync says), as a
// RabbitMQ answer means the change is in its database: the answer waits
// until the store has committed everything submitted before it. An empty
// submission, batched by the writer with whatever is pending; reads and
// refusals do not wait.
asio::awaitable<void> wait_for_commit(admin_context& ctx) {
  storage::store* store = ctx.b.storage().durable;
  if (store == nullptr) co_return;
  auto committed = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, commit_timeout);
  // Single-threaded: the completion is posted, so it runs only once we wait below.
  store->submit({}, [committed](bool) { committed->cancel(); });
  boost::system::error_code ec;
  co_await committed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> run_session(tcp::socket socket, admin_context& ctx,
                                  std::shared_ptr<http_server::sessions> registry) {
  bool loopback = net::is_loopback(socket);
  beast::tcp_stream stream(std::move(socket));
  registry->open.insert(&stream);
  struct unregister {
    http_server::sessions& r;
    beast::tcp_stream* s;
    ~unregister() { r.open.erase(s); }
  } guard{*registry, &stream};
  // Bounded: a request never needs more than its header and body limits.
  beast::flat_buffer buffer(max_request_header + max_request_body + 64 * 1024);
  boost::system::error_code ec;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_header);
    parser.body_limit(max_request_body);
    stream.expires_after(request_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    // curl asks before sending bodies over 1 KiB and would otherwise wait a second.
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done())
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::eof || ec == asio::error::connection_reset)
      co_return;
    bool refuse = false;
    http_response answer;
    if (ec == http::error::body_limit) {
      answer = error_body(413, "payload_too_large",
                          "request body larger than " + std::to_string(max_request_body) + " bytes");
      refuse = true;
    } else if (ec == http::error::header_limit) {
      answer = error_body(431, "bad_request", "request header larger than " + std::to_string(max_request_header) +
                                                  " bytes");
      refuse = true;
    } else if (ec) {
      answer = error_body(400, "bad_request", "malformed HTTP request: " + ec.message());
      refuse = true;
    } else {
      http_request req = to_request(parser.get(), loopback);
      answer = handle_request(req, ctx);
      if (changes_state(req) && answer.status < 300) co_await wait_for_commit(ctx);
    }
    bool keep_alive = !refuse && parser.get().keep_alive();
    auto response = to_response(std::move(answer), refuse ? 11 : parser.get().version(), keep_alive);
    stream.expires_after(write_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (refuse) {
      co_await drain(stream);
      co_return;
    }
    if (!keep_alive) {
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

}  // namespace

http_server::http_server(asio::io_context& io, admin_context& ctx)
    : io_(io), ctx_(ctx), acceptor_(io), sample_timer_(io), sessions_(std::make_shared<sessions>()) {}

http_server::~http_server() = default;

std::uint16_t http_server::listen(const std::string& address, std::uint16_t port) {
  std::uint16_t bound = net::open_listener(acceptor_, address, port);
  auto on_accept = [this](tcp::socket socket) { start_session(std::move(socket)); };
  auto on_error = [](const boost::system::error_code& ec) { log::warning("http accept failed: " + ec.message()); };
  asio::co_spawn(io_, net::accept_each(acceptor_, on_accept, on_error), asio::detached);
  asio::co_spawn(io_, sample_loop(), asio::detached);
  return bound;
}

void http_server::start_session(tcp::socket socket) {
  if (sessions_->open.size() >= max_http_sessions) {
    log::warning("http: refusing a connection, " + std::to_string(max_http_sessions) + " already open");
    boost::system::error_code ec;
    socket.close(ec);
    return;
  }
  asio::co_spawn(io_, run_session(std::move(socket), ctx_, sessions_), asio::detached);
}

asio::awaitable<void> http_server::sample_loop() {
  boost::system::error_code ec;
  auto last = std::chrono::steady_clock::now();
  while (acceptor_.is_open()) {
    sample_timer_.expires_after(1s);
    co_await sample_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto now = std::chrono::steady_clock::now();
    sample_rates(ctx_.b, std::chrono::duration<double>(now - last).count());
    last = now;
  }
}

void http_server::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  sample_timer_.cancel();
  for (beast::tcp_stream* s : sessions_->open) s->socket().close(ec);
}

}  // namespace roost::admin
