// HTTP Basic authentication against the broker's user accounts.
//
// Only the Authorization header counts (no cookies, no sessions), so a
// cross-site form post, which cannot set that header, cannot act as a user.
// Pure code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roost {
class broker;
}

namespace roost::admin {

// The user named by a valid "Basic ..." header value whose credentials the
// broker accepts from this peer; nothing otherwise.
std::optional<std::string> authenticate_basic(const broker& b, const std::string* authorization,
                                              bool peer_is_loopback);

}  // namespace roost::admin
