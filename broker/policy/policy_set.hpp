// The policies and operator policies of one vhost, by kind and name, and
// which of them applies to a given queue or exchange name. Owned by the
// vhost; broker thread only.
//
// Finding the policy for a name is one regex search per policy of that
// kind, so a vhost without policies pays nothing at declare time, and
// nothing at all per message: queues and exchanges keep what applies to
// them (policy_apply.cpp) and are told when it changes.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "broker/policy/policy.hpp"

namespace roost {

class policy_set {
 public:
  using by_name = std::map<std::string, policy_ref, std::less<>>;

  // Adds or replaces the policy of its kind and name; returns the one it replaced (or null).
  policy_ref put(policy_ref p);
  // Removes it; returns it (null when there was none).
  policy_ref remove(policy_kind kind, std::string_view name);
  policy_ref find(policy_kind kind, std::string_view name) const;
  // Sorted by name.
  const by_name& all(policy_kind kind) const { return kind == policy_kind::regular ? regular_ : operator_; }
  bool empty() const { return regular_.empty() && operator_.empty(); }

  // The policy of this kind that applies to the named object: the highest
  // priority among those whose pattern is found in the name (policy::outranks); null if none.
  policy_ref best(policy_kind kind, std::string_view object_name, policy_object object) const;

 private:
  by_name& of(policy_kind kind) { return kind == policy_kind::regular ? regular_ : operator_; }

  by_name regular_;
  by_name operator_;
};

}  // namespace roost
