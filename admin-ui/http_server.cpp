// Beast lives here and only here (it is slow to compile). Each connection
// is one coroutine; a request is converted to http_request, answered by
// handle_request on the broker thread, and written back. TCP and the
// control socket's Unix stream run the same session template, and so does
// HTTPS (a TLS handshake first, close_notify at the end).
#include "admin-ui/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>

#include "admin-ui/api.hpp"
#include "admin-ui/api_error.hpp"
#include "admin-ui/rates.hpp"
#include "broker/common/log.hpp"
#include "broker/common/refusal_log.hpp"
#include "broker/model/broker.hpp"
#include "net/accept_loop.hpp"
#include "net/local_socket.hpp"
#include "net/tcp_listener.hpp"
#include "net/tls_server_context.hpp"

namespace roost::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

namespace {

// A connection that has not logged in yet must send a request head within
// this (and between requests): long enough for any real client, short
// enough that half-sent requests do not pile up.
constexpr auto head_timeout = 5s;
// A logged-in connection's idle keep-alive, and any request's body.
constexpr auto request_timeout = 30s;
constexpr auto write_timeout = 30s;
constexpr auto drain_timeout = 2s;
constexpr auto commit_timeout = 30s;

http_request to_request(const http::request<http::string_body>& in, request_origin origin, bool loopback) {
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
  r.origin = origin;
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
  struct entry {
    request_origin origin;
    std::function<void()> close;  // closes the session's socket; its coroutine then ends
  };
  std::unordered_map<http_admission::session_id, entry> open;
  http_admission admission{http_admission::limits{}};  // the TCP sessions only
  http_admission::session_id next_id = 1;
  refusal_log refusals;

  std::size_t count(request_origin origin) const {
    std::size_t n = 0;
    for (const auto& [stream, e] : open) n += e.origin == origin ? 1 : 0;
    return n;
  }
};

namespace {

// Reads and discards what a refused client is still sending, so that
// closing does not reset the connection before it reads our answer.
template <class Stream>
asio::awaitable<void> drain(Stream& stream) {
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).socket().shutdown(asio::socket_base::shutdown_send, ec);
  char scratch[16384];
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::size_t drained = 0;
  while (!ec && drained < 2 * max_request_body && std::chrono::steady_clock::now() < deadline) {
    beast::get_lowest_layer(stream).expires_at(deadline);
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

// An answer that waits for reads from the store: the handler's `later`
// runs now and hands the answer over when they are done (or at once).
asio::awaitable<http_response> answer_later(std::function<void(std::function<void(http_response)>)> later) {
  auto ready = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, commit_timeout);
  auto answer = std::make_shared<std::optional<http_response>>();
  later([ready, answer](http_response given) {
    *answer = std::move(given);
    ready->cancel();
  });
  boost::system::error_code ec;
  if (!*answer) co_await ready->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (*answer) co_return std::move(**answer);
  co_return error_body(503, "service_unavailable", "the store did not answer within 30 s");
}

template <class Stream>
constexpr bool is_tls = false;
template <class Next>
constexpr bool is_tls<beast::ssl_stream<Next>> = true;

// HTTPS: the TLS handshake, bounded like a request. False when it failed.
template <class Stream>
asio::awaitable<bool> open_stream(Stream& stream) {
  if constexpr (is_tls<Stream>) {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(request_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      log::debug("https: TLS handshake failed: " + ec.message());
      co_return false;
    }
  }
  co_return true;
}

// The session is over: HTTPS sends close_notify first (bounded, the peer
// may not answer), then the TCP side is shut for sending.
template <class Stream>
asio::awaitable<void> close_stream(Stream& stream) {
  boost::system::error_code ec;
  if constexpr (is_tls<Stream>) {
    beast::get_lowest_layer(stream).expires_after(drain_timeout);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
  beast::get_lowest_layer(stream).socket().shutdown(asio::socket_base::shutdown_send, ec);
}

template <class Stream>
asio::awaitable<void> run_session(Stream stream, http_admission::session_id id, request_origin origin, bool loopback,
                                  admin_context& ctx, std::shared_ptr<http_server::sessions> registry) {
  registry->open[id] = {origin, [&stream] {
                          boost::system::error_code ec;
                          beast::get_lowest_layer(stream).socket().close(ec);
                        }};
  struct unregister {
    http_server::sessions& r;
    http_admission::session_id id;
    ~unregister() {
      r.open.erase(id);
      r.admission.left(id);
    }
  } guard{*registry, id};
  bool logged_in = origin == request_origin::control_socket;
  if (!co_await open_stream(stream)) co_return;
  // Bounded: a request never needs more than its header and body limits.
  beast::flat_buffer buffer(max_request_header + max_request_body + 64 * 1024);
  boost::system::error_code ec;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_header);
    parser.body_limit(max_request_body);
    beast::get_lowest_layer(stream).expires_after(logged_in ? request_timeout : head_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    beast::get_lowest_layer(stream).expires_after(request_timeout);
    // curl asks before sending bodies over 1 KiB and would otherwise wait a second.
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done())
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    // (Through TLS a client that closes without close_notify is a truncated stream: also just gone.)
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated)
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
      http_request req = to_request(parser.get(), origin, loopback);
      answer = handle_request(req, ctx);
      if (answer.later) {
        bool login = answer.logged_in;
        auto later = std::move(answer.later);  // a named local: GCC 12 mishandles temporaries across co_await
        http_response given = co_await answer_later(std::move(later));
        answer = std::move(given);
        answer.logged_in = login;
      }
      if (answer.logged_in && !logged_in) {
        logged_in = true;
        registry->admission.logged_in(id);
      }
      if (changes_state(req) && answer.status < 300) co_await wait_for_commit(ctx);
    }
    bool keep_alive = !refuse && parser.get().keep_alive();
    auto response = to_response(std::move(answer), refuse ? 11 : parser.get().version(), keep_alive);
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (refuse) {
      co_await drain(stream);
      co_return;
    }
    if (!keep_alive) {
      co_await close_stream(stream);
      co_return;
    }
  }
}

}  // namespace

http_server::http_server(asio::io_context& io, admin_context& ctx)
    : io_(io),
      ctx_(ctx),
      acceptor_(io),
      tls_acceptor_(io),
      control_acceptor_(io),
      sample_timer_(io),
      sessions_(std::make_shared<sessions>()) {}

// A broker that leaves without stop() (a listener that failed to open) does not leave its socket file behind.
http_server::~http_server() { net::remove_local_socket(control_path_); }

std::uint16_t http_server::listen(const std::string& address, std::uint16_t port) {
  std::uint16_t bound = net::open_listener(acceptor_, address, port);
  auto on_accept = [this](tcp::socket socket) {
    net::peer_identity peer = net::peer_of(socket);
    adopt(std::move(socket), peer, nullptr);
  };
  auto on_error = [this](const boost::system::error_code& ec) {
    sessions_->refusals.refused("http accept failed: " + ec.message());
  };
  asio::co_spawn(io_, net::accept_each(acceptor_, on_accept, on_error), asio::detached);
  asio::co_spawn(io_, sample_loop(), asio::detached);
  return bound;
}

std::uint16_t http_server::listen_tls(const std::string& address, std::uint16_t port,
                                      net::tls_server_credentials& credentials) {
  std::uint16_t bound = net::open_listener(tls_acceptor_, address, port);
  auto on_accept = [this, &credentials](tcp::socket socket) {
    net::peer_identity peer = net::peer_of(socket);
    adopt(std::move(socket), peer, &credentials);
  };
  auto on_error = [this](const boost::system::error_code& ec) {
    sessions_->refusals.refused("https accept failed: " + ec.message());
  };
  asio::co_spawn(io_, net::accept_each(tls_acceptor_, on_accept, on_error), asio::detached);
  return bound;
}

void http_server::listen_control(const std::string& path) {
  net::open_local_listener(control_acceptor_, path);
  control_path_ = path;
  auto on_accept = [this](local::socket socket) { admit_control(std::move(socket)); };
  auto on_error = [](const boost::system::error_code& ec) {
    log::warning("control socket accept failed: " + ec.message());
  };
  asio::co_spawn(io_, net::accept_each(control_acceptor_, on_accept, on_error), asio::detached);
}

template <class Stream>
void http_server::start_session(Stream stream, http_admission::session_id id, request_origin origin, bool loopback) {
  asio::co_spawn(io_, run_session(std::move(stream), id, origin, loopback, ctx_, sessions_), asio::detached);
}

// Served, perhaps closing an older connection that has not logged in for
// it, or refused (http_admission.hpp). HTTP and HTTPS share the caps.
void http_server::adopt(tcp::socket socket, const net::peer_identity& from, net::tls_server_credentials* tls) {
  boost::system::error_code ec;
  std::string peer = from.address.empty() ? std::string("unknown") : from.address;
  http_admission::session_id id = sessions_->next_id++;
  auto verdict = sessions_->admission.arrive(id, peer);
  if (verdict.evict) {
    auto evicted = sessions_->open.find(*verdict.evict);
    if (evicted != sessions_->open.end()) evicted->second.close();
    sessions_->refusals.refused("http: closed the oldest connection without a login (" +
                                std::to_string(sessions_->admission.unproven_from(peer)) + " from " + peer +
                                ", " + std::to_string(sessions_->admission.unproven()) +
                                " in all) to make room for a new one");
  }
  if (!verdict.admit) {
    socket.close(ec);
    sessions_->refusals.refused("http: refusing a connection from " + peer + ", " +
                                std::to_string(sessions_->admission.open()) + " logged-in connections open");
    return;
  }
  bool loopback = from.loopback;
  if (tls != nullptr)
    start_session(beast::ssl_stream<beast::tcp_stream>(std::move(socket), tls->current()), id, request_origin::http,
                  loopback);
  else
    start_session(beast::tcp_stream(std::move(socket)), id, request_origin::http, loopback);
}

void http_server::admit_control(local::socket socket) {
  if (sessions_->count(request_origin::control_socket) >= max_control_sessions) {
    log::warning("control socket: refusing a connection, " + std::to_string(max_control_sessions) + " already open");
    boost::system::error_code ec;
    socket.close(ec);
    return;
  }
  // The peer is the broker's own user (or root), on this host.
  start_session(beast::basic_stream<local>(std::move(socket)), sessions_->next_id++, request_origin::control_socket,
                true);
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
  tls_acceptor_.close(ec);
  control_acceptor_.close(ec);
  net::remove_local_socket(control_path_);
  control_path_.clear();
  sample_timer_.cancel();
  for (auto& [stream, session] : sessions_->open) session.close();
}

}  // namespace roost::admin
