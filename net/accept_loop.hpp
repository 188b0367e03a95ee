// The accept loop every listener shares, whatever its socket type (TCP for
// AMQP and HTTP, a Unix domain socket for the control socket): hand each
// accepted socket on, survive transient accept errors without spinning.
#pragma once

#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>

namespace roost::net {

// Hands every accepted socket to on_accept until the acceptor is closed.
// A failed accept (out of file descriptors and the like) goes to on_error
// (the caller logs it) and the loop keeps serving after a short pause: out
// of descriptors, the pending connection stays in the backlog and a retry
// at once fails at once, a busy loop that would starve every client.
template <class Acceptor>
boost::asio::awaitable<void> accept_each(
    Acceptor& acceptor, std::function<void(typename Acceptor::protocol_type::socket)> on_accept,
    std::function<void(const boost::system::error_code&)> on_error) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  while (acceptor.is_open()) {
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      on_error(ec);
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    on_accept(std::move(socket));
  }
}

}  // namespace roost::net
