#include "admin-ui/basic_auth.hpp"

#include <cctype>

#include "broker/common/base64.hpp"
#include "broker/model/broker.hpp"

namespace roost::admin {

std::optional<std::string> authenticate_basic(const broker& b, const std::string* authorization,
                                              bool peer_is_loopback) {
  if (authorization == nullptr) return std::nullopt;
  std::string_view value = *authorization;
  constexpr std::string_view scheme = "Basic ";
  if (value.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive
    if (std::tolower(static_cast<unsigned char>(value[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
      return std::nullopt;
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto decoded = base64_decode(value);
  if (!decoded) return std::nullopt;
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string user = decoded->substr(0, colon);
  if (b.access().authenticate(user, std::string_view(*decoded).substr(colon + 1), peer_is_loopback) == nullptr)
    return std::nullopt;
  return user;
}

}  // namespace roost::admin
