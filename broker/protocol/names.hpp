// Server-generated names in RabbitMQ's shape: "amq.gen-" + 22 url-safe
// base64 characters for queues, "amq.ctag-" + 22 for consumer tags.
#pragma once

#include <string>
#include <string_view>

namespace roost {

std::string generate_name(std::string_view prefix);

}  // namespace roost
