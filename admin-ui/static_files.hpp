// The dashboard's static files: GET / serves index.html, GET /x.js serves
// DIR/x.js with its content type. Paths are checked segment by segment
// (router.hpp's split_path refuses "." and ".."; decoded segments may not
// hold '/', '\\' or NUL), so nothing outside DIR can be named.
#pragma once

#include <string>
#include <string_view>

#include "admin-ui/http_types.hpp"

namespace roost::admin {

// Content type for a file name, by extension.
std::string content_type_for(std::string_view file_name);
http_response serve_static(const std::string& dir, std::string_view path);

}  // namespace roost::admin
