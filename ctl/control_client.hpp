// roostctl's real environment: the broker's control socket (HTTP/1.1 over
// the Unix domain socket DATA_DIR/roost.ctl, one connection kept alive for
// a command's requests, each with a deadline), the local files that
// export_definitions and import_definitions use, and standard input. Beast stays in the .cpp.
// Single-threaded: roostctl's main thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ctl/environment.hpp"

namespace roost::ctl {

class control_client : public environment {
 public:
  // timeout: for each request, from sending it to the reply's last byte.
  control_client(std::string data_dir, std::chrono::seconds timeout);
  ~control_client() override;

  // Errors name the data dir and the socket: nothing there (no broker),
  // a socket nobody listens on (a broker that did not stop cleanly), or a
  // socket this user may not open.
  void connect() override;
  api_reply call(const api_request& request) override;
  std::string read_file(const std::string& path) override;
  bool exists(const std::string& path) override;
  std::string read_password() override;
  void write_file(const std::string& path, const std::string& content) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace roost::ctl
