// What a roostctl command sends and gets back, as plain values, and the one
// interface through which commands reach the world: the broker's admin API
// (over the control socket in the real program, control_client.hpp), the
// files export_definitions and import_definitions use, and a password on
// standard input. Unit tests give commands a scripted fake, so every
// command runs without a socket.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace roost::ctl {

// One admin API call. target is the path (segments percent-encoded) and query.
struct api_request {
  std::string method;
  std::string target;
  std::string body;  // JSON, or empty
  std::vector<std::pair<std::string, std::string>> headers;

  bool operator==(const api_request&) const = default;
};

struct api_reply {
  int status = 0;
  std::string body;
};

class environment {
 public:
  virtual ~environment() = default;
  // Reaches the broker; throws command_error (unavailable) when nothing
  // listens on the control socket. Called once, before a command prints anything.
  virtual void connect() = 0;
  // Sends a request and waits for its reply (command_error temp_fail on timeout).
  virtual api_reply call(const api_request& request) = 0;
  // A file's whole content ("-": standard input); command_error (data) when it cannot be read.
  virtual std::string read_file(const std::string& path) = 0;
  // A file or directory is there.
  virtual bool exists(const std::string& path) = 0;
  // A password from standard input, for add_user and change_password
  // without one on the command line (so it is not in ps or the shell's
  // history): its first line; on a terminal, prompted on standard error and
  // not echoed.
  virtual std::string read_password() = 0;
  // Replaces a file's content; command_error (data) when it cannot be written.
  virtual void write_file(const std::string& path, const std::string& content) = 0;
};

}  // namespace roost::ctl
