// The control socket's file: see local_socket.hpp.
#include "net/local_socket.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/system/system_error.hpp>
#include <cerrno>

namespace roost::net {

namespace {

using local = boost::asio::local::stream_protocol;

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw boost::system::system_error(boost::system::error_code(error, boost::system::system_category()), what);
}

}  // namespace

std::string control_socket_path(const std::string& data_dir) {
  if (!data_dir.empty() && data_dir.back() == '/') return data_dir + "roost.ctl";
  return data_dir + "/roost.ctl";
}

void with_local_endpoint(const std::string& path, const std::function<void(const local_endpoint&)>& use) {
  if (path.size() < sizeof(sockaddr_un::sun_path)) {
    use(local_endpoint(path));
    return;
  }
  std::size_t slash = path.rfind('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(errno, dir);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  use(local_endpoint("/proc/self/fd/" + std::to_string(fd) + "/" + path.substr(slash + 1)));
}

void open_local_listener(local::acceptor& acceptor, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw_errno(EEXIST, path + " exists and is not a socket; not replacing it");
    if (::unlink(path.c_str()) != 0) throw_errno(errno, "cannot remove the stale socket " + path);
  }
  acceptor.open();
  with_local_endpoint(path, [&](const local_endpoint& endpoint) { acceptor.bind(endpoint); });
  if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
    int error = errno;
    remove_local_socket(path);
    throw_errno(error, "cannot restrict " + path + " to mode 0600");
  }
  acceptor.listen(boost::asio::socket_base::max_listen_connections);
}

void remove_local_socket(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

}  // namespace roost::net
