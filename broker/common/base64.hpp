// Standard base64 (RFC 4648, padding optional on input): HTTP Basic
// credentials, base64 message payloads in the admin API, and password hashes
// in RabbitMQ's definitions format. Pure code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roost {

// Nothing on invalid input.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace roost
