#include "broker/protocol/unacked_deliveries.hpp"

#include <algorithm>

namespace roost {

bool unacked_deliveries::settle(std::uint64_t tag, bool multiple, std::vector<unacked_delivery>& out) {
  // As RabbitMQ: the tag itself must be outstanding, even with multiple;
  // only tag 0 with multiple means "everything".
  // Clients mostly ack in delivery order: the oldest outstanding tag needs no search.
  auto it = !entries_.empty() && entries_.front().tag == tag
                ? entries_.begin()
                : std::lower_bound(entries_.begin(), entries_.end(), tag,
                                   [](const unacked_delivery& d, std::uint64_t t) { return d.tag < t; });
  bool found = it != entries_.end() && it->tag == tag && !it->settled;
  if (!found && !(multiple && tag == 0)) return false;
  auto settle_one = [&](unacked_delivery& d) {
    out.push_back(std::move(d));
    d.settled = true;
    --live_;
  };
  if (multiple) {
    auto end = tag == 0 ? entries_.end() : it + 1;
    for (auto d = entries_.begin(); d != end; ++d)
      if (!d->settled) settle_one(*d);
  } else {
    settle_one(*it);
  }
  while (!entries_.empty() && entries_.front().settled) entries_.pop_front();
  return true;
}

void unacked_deliveries::orphan(const channel_consumer* owner) {
  for (auto& d : entries_)
    if (d.owner == owner) d.owner = nullptr;
}

}  // namespace roost
