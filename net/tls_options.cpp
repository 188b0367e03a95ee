// The --tls-verify values: see tls_options.hpp.
#include "net/tls_options.hpp"

namespace roost::net {

bool parse_peer_verification(std::string_view text, peer_verification& out) {
  if (text == "none") out = peer_verification::none;
  else if (text == "peer") out = peer_verification::peer;
  else if (text == "require") out = peer_verification::require;
  else return false;
  return true;
}

}  // namespace roost::net
