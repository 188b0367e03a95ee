// The in-sync replica list, /roost/<cluster>/isr: the nodes whose stores
// hold every batch the leader has confirmed (the leader among them). Only
// the leader writes it, conditioned on its leader key (put_if_held_body);
// only a node it lists may take the leadership (leadership.hpp).
//
// Value: {"epoch": <the writer's epoch>, "members": ["n1", "n2"]}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roost::cluster {

struct isr_record {
  std::int64_t epoch = 0;
  std::vector<std::string> members;

  bool lists(std::string_view node_id) const;
};

std::string encode_isr(const isr_record& isr);
// Null for a value that is not such a record (not written by Roost).
std::optional<isr_record> parse_isr(std::string_view value);

}  // namespace roost::cluster
