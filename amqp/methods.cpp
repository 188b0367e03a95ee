// Method names by id, for logs and error texts.
#include <algorithm>
#include <array>

#include "amqp/methods.hpp"

namespace roost::amqp {

namespace {

struct named_method {
  std::uint32_t key;
  std::string_view name;
};

template <class... Ms>
constexpr auto name_table(method_list<Ms...>) {
  std::array<named_method, sizeof...(Ms)> out{named_method{Ms::id.key(), Ms::name}...};
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

constexpr auto names = name_table(all_methods{});

}  // namespace

std::string_view method_name(std::uint16_t class_id, std::uint16_t method_id) {
  std::uint32_t key = method_key(class_id, method_id);
  auto it = std::lower_bound(names.begin(), names.end(), key,
                             [](const named_method& m, std::uint32_t k) { return m.key < k; });
  return it != names.end() && it->key == key ? it->name : std::string_view("unknown");
}

}  // namespace roost::amqp
