#include "admin-ui/static_files.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "admin-ui/api_error.hpp"
#include "admin-ui/router.hpp"

namespace roost::admin {

namespace {

constexpr std::size_t max_static_file = 16 * 1024 * 1024;

}  // namespace

std::string content_type_for(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},  {".map", "application/json"},
      {".woff2", "font/woff2"}};
  for (auto [ext, type] : types)
    if (name.ends_with(ext)) return std::string(type);
  return "application/octet-stream";
}

http_response serve_static(const std::string& dir, std::string_view path) {
  auto segments = split_path(path);
  if (!segments) bad_request("malformed path (bad escape, empty segment, '.' or '..')");
  if (segments->empty()) segments->push_back("index.html");
  std::string file = dir;
  for (const std::string& s : *segments) {
    if (s.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos || s.starts_with('.'))
      not_found("no such file");
    file += '/';
    file += s;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) not_found("no such file");
  if (static_cast<std::size_t>(st.st_size) > max_static_file) not_found("file too large to serve");
  std::ifstream in(file, std::ios::binary);
  if (!in) not_found("no such file");
  std::ostringstream body;
  body << in.rdbuf();
  http_response r;
  r.content_type = content_type_for(segments->back());
  r.body = body.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace roost::admin
