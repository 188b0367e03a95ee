#include "broker/policy/policy_set.hpp"

namespace roost {

policy_ref policy_set::put(policy_ref p) {
  policy_ref& slot = of(p->kind())[p->name()];
  policy_ref previous = std::move(slot);
  slot = std::move(p);
  return previous;
}

policy_ref policy_set::remove(policy_kind kind, std::string_view name) {
  by_name& policies = of(kind);
  auto it = policies.find(name);
  if (it == policies.end()) return nullptr;
  policy_ref gone = std::move(it->second);
  policies.erase(it);
  return gone;
}

policy_ref policy_set::find(policy_kind kind, std::string_view name) const {
  const by_name& policies = all(kind);
  auto it = policies.find(name);
  return it == policies.end() ? nullptr : it->second;
}

policy_ref policy_set::best(policy_kind kind, std::string_view object_name, policy_object object) const {
  policy_ref winner;
  for (const auto& [name, p] : all(kind))
    if ((winner == nullptr || p->outranks(*winner)) && p->applies(object_name, object)) winner = p;
  return winner;
}

}  // namespace roost
