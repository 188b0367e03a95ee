// The broker's control socket, as both ends see it: a Unix domain socket
// named roost.ctl in the data dir. The broker listens on it (admin-ui's
// HTTP server), roostctl connects to it; both link this file, so the name
// and the way a long path is reached are defined once.
//
// Who may connect is decided by the file's mode alone (0600: the broker's
// user, and root), as the Erlang cookie file decides for rabbitmqctl.
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <string>

namespace roost::net {

using local_endpoint = boost::asio::local::stream_protocol::endpoint;

// DATA_DIR/roost.ctl.
std::string control_socket_path(const std::string& data_dir);

// Calls use() with an endpoint naming path. sun_path holds 107 bytes; a
// longer path is reached through /proc/self/fd/N of its directory, kept
// open for the call, so a deep data dir works for bind and connect alike.
// Throws boost::system::system_error when that directory cannot be opened.
void with_local_endpoint(const std::string& path, const std::function<void(const local_endpoint&)>& use);

// Opens, binds and listens on path, with the socket file at mode 0600
// before anyone can connect (chmod between bind and listen: until listen, a
// connect is refused). A socket file already there is a stale one from a
// broker that did not stop cleanly (the data dir's lock keeps a second
// broker out) and is replaced; anything else at that path is left alone
// and refused. Throws boost::system::system_error.
void open_local_listener(boost::asio::local::stream_protocol::acceptor& acceptor, const std::string& path);

// Removes the socket file (at a clean stop); a missing file is fine.
void remove_local_socket(const std::string& path);

}  // namespace roost::net
