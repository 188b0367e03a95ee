// The client side of the control socket: Beast's HTTP/1.1 over a Unix
// stream socket (the broker's http_server serves it with the same sessions
// as TCP), and plain file I/O. See control_client.hpp.
#include "ctl/control_client.hpp"

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "ctl/errors.hpp"
#include "net/local_socket.hpp"

namespace roost::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

namespace {

// Replies are not limited like requests: an export of many definitions may be large.
constexpr std::uint64_t max_reply_body = std::uint64_t{1} << 30;

}  // namespace

struct control_client::impl {
  std::string data_dir;
  std::string path;
  std::chrono::seconds timeout;
  asio::io_context io;
  beast::basic_stream<local> stream{io};
  beast::flat_buffer buffer;
  bool connected = false;

  // Runs one asynchronous operation to completion on this thread.
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result;
    start([&result](boost::system::error_code ec, std::size_t) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  [[noreturn]] void connect_failed(const boost::system::error_code& ec) const {
    int e = ec.category() == boost::system::system_category() ? ec.value() : 0;
    std::string why;
    if (e == ENOENT || e == ENOTDIR)
      why = "no broker is running on data dir " + data_dir + " (no control socket at " + path +
            "); give roostctl the --data-dir the broker runs with";
    else if (e == ECONNREFUSED)
      why = "no broker is listening on " + path + " (left behind by a broker on data dir " + data_dir +
            " that did not stop cleanly; the next one started there replaces it)";
    else if (e == EACCES || e == EPERM)
      why = "permission denied on " + path +
            ": only the user the broker runs as (and root) may use its control socket";
    else
      why = "cannot connect to the control socket " + path + ": " + ec.message();
    cannot(exit_code::unavailable, "unable to perform an operation: " + why);
  }

  void open() {
    boost::system::error_code ec;
    try {
      net::with_local_endpoint(path, [&](const net::local_endpoint& endpoint) {
        stream.socket().close(ec);
        stream.socket().connect(endpoint, ec);
      });
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    if (ec) connect_failed(ec);
    buffer.clear();
    connected = true;
  }

  [[noreturn]] void transfer_failed(const boost::system::error_code& ec) {
    connected = false;
    if (ec == beast::error::timeout)
      cannot(exit_code::temp_fail, "no answer from the broker within " + std::to_string(timeout.count()) +
                                       " s (control socket " + path + ")");
    cannot(exit_code::unavailable, "the broker closed the control connection (" + ec.message() + ")");
  }
};

control_client::control_client(std::string data_dir, std::chrono::seconds timeout) : impl_(std::make_unique<impl>()) {
  impl_->path = net::control_socket_path(data_dir);
  impl_->data_dir = std::move(data_dir);
  impl_->timeout = timeout;
}

control_client::~control_client() = default;

void control_client::connect() { impl_->open(); }

api_reply control_client::call(const api_request& request) {
  impl& c = *impl_;
  if (!c.connected) c.open();
  http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::user_agent, "roostctl/" ROOST_VERSION);
  if (!request.body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  c.stream.expires_after(c.timeout);
  auto ec = c.run([&](auto handler) { http::async_write(c.stream, req, handler); });
  if (ec) c.transfer_failed(ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_reply_body);
  ec = c.run([&](auto handler) { http::async_read(c.stream, c.buffer, parser, handler); });
  if (ec) c.transfer_failed(ec);
  c.stream.expires_never();
  const auto& res = parser.get();
  if (!res.keep_alive()) c.connected = false;
  return api_reply{static_cast<int>(res.result_int()), res.body()};
}

std::string control_client::read_file(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) command_failed(exit_code::data, "cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) command_failed(exit_code::data, "cannot read " + path + ": " + std::strerror(errno));
  return text.str();
}

bool control_client::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string control_client::read_password() {
  std::string line;
  if (::isatty(STDIN_FILENO) == 0) {
    std::getline(std::cin, line);
    return line;
  }
  std::fputs("Password: ", stderr);
  termios saved{};
  bool quiet = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (quiet) {
    termios no_echo = saved;
    no_echo.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &no_echo);
  }
  std::getline(std::cin, line);
  if (quiet) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::fputs("\n", stderr);
  return line;
}

void control_client::write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << content;
  if (!out || !out.flush())
    command_failed(exit_code::data, "cannot write " + path + ": " + std::strerror(errno));
}

}  // namespace roost::ctl
