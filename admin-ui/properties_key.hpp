// A binding's properties key: the last path segment of
// /api/bindings/{vhost}/e/{source}/{q|e}/{destination}/{props}, printed and
// read back the way RabbitMQ's management API (3.10) does, checked against a
// real node (tests/integration/test_admin_api.py runs against one).
//
// Printed: the routing key quoted as a form value (space as '+', every byte
// but letters, digits and "-._" as %XX, so '~' too), "~" for the empty key,
// then "~" and a hash of the arguments when there are any: "a.%2A",
// "a+b", "~", "k~<hash>".
//
// Read: the router has percent-decoded the segment once. RabbitMQ then splits
// it at '~' and unquotes each part a second time ('+' is a space, an invalid
// escape stays as it is). Decoding twice is why one binding answers to
// several segments: rabbitmqadmin sends the raw key quoted once ("a.%2A"
// for "a.*"), the dashboard the listed key quoted once ("a.%252A"). The listed
// key sent as it is also works, unless the key holds '~', '+' or "%XX": the
// first decoding turns "a%7Eb" (key "a~b") into "a~b", which splits.
// Pure code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roost {
struct binding;
}

namespace roost::admin {

std::string properties_key(const binding& b);

// The properties key (as properties_key prints it) that a path segment names,
// the segment already percent-decoded once by the router; nothing when it can
// name no binding (three parts between '~'s, an empty arguments hash).
std::optional<std::string> named_properties_key(std::string_view segment);

}  // namespace roost::admin
