#include "admin-ui/properties_key.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "admin-ui/router.hpp"
#include "amqp/wire.hpp"
#include "broker/model/exchange.hpp"

namespace roost::admin {

namespace {

// RabbitMQ's quote_plus, plus '~' escaped: in a properties key '~' only ever
// separates the routing key from the arguments hash.
std::string quote_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == ' ') out += '+';
    else if (c == '~') out += "%7E";
    else out += percent_encode(std::string_view(&c, 1));
  }
  return out;
}

// RabbitMQ's unquote: "%XX" is a byte, '+' a space, and a '%' that starts no
// valid escape is kept as it is (unlike the router, which refuses it).
std::string unquote_plus(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::optional<std::string> byte;
    if (text[i] == '%' && (byte = percent_decode(text.substr(i, 3)))) {
      out += *byte;
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// RabbitMQ's tokenise: split at every '~', except that a '~' at the very end
// closes the last part instead of opening an empty one: "k~" is {"k"}, "k~~"
// is {"k", ""}, "~" is {""}.
std::vector<std::string_view> tokenise(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    std::size_t tilde = text.find('~');
    parts.push_back(text.substr(0, tilde));
    if (tilde == std::string_view::npos) break;
    text.remove_prefix(tilde + 1);
  }
  return parts;
}

std::string arguments_hash(const amqp::field_table& arguments) {
  // FNV-1a over the encoded (canonical) arguments: stable, and short enough for a URL.
  std::string encoded = amqp::encode_table(arguments);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : encoded) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// hash: empty for a binding without arguments.
std::string compose(std::string_view routing_key, std::string_view hash) {
  if (hash.empty()) return routing_key.empty() ? "~" : quote_key(routing_key);
  return quote_key(routing_key) + "~" + std::string(hash);
}

}  // namespace

std::string properties_key(const binding& b) {
  return compose(b.routing_key, b.arguments.empty() ? std::string() : arguments_hash(b.arguments));
}

std::optional<std::string> named_properties_key(std::string_view segment) {
  std::vector<std::string_view> parts = tokenise(segment);
  if (parts.empty() || parts.size() > 2) return std::nullopt;
  std::string key = unquote_plus(parts[0]);
  if (parts.size() == 1) return compose(key, "");
  std::string hash = unquote_plus(parts[1]);
  // "k~~": RabbitMQ looks for arguments whose hash is "", and no arguments have one.
  if (hash.empty()) return std::nullopt;
  return compose(key, hash);
}

}  // namespace roost::admin
