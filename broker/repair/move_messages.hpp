// Deleting or moving chosen ready messages (the admin API's
// .../messages/delete and .../messages/move, and redrive.hpp): each message
// leaves its queue and, for a move, goes to a queue or through an exchange,
// as a copy with the same properties and body. The whole batch is one store
// submission, so after a crash each persistent message is in exactly one
// of the two places. A message that would be lost stays where it is: one
// no longer ready, one that no queue would take (unroutable), one a full
// queue with x-overflow reject-publish refuses.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/model/storage_context.hpp"
#include "broker/queue/queue_browse.hpp"

namespace roost {

class exchange;
class queue;
class vhost;

// Where a moved message goes; neither a queue nor an exchange: it is deleted.
struct move_destination {
  queue* to_queue = nullptr;
  exchange* to_exchange = nullptr;
  // With to_exchange: routed with each; the first becomes the message's routing key.
  std::vector<std::string> routing_keys;
};

// A message's destination (redrive: where it died); nothing: it has none
// to go to, and stays (counted unroutable).
using destination_of = std::function<std::optional<move_destination>(const ready_view&)>;

struct move_counts {
  std::uint64_t moved = 0;       // or deleted
  std::uint64_t gone = 0;        // no longer ready: delivered, expired or removed since they were read
  std::uint64_t unroutable = 0;  // the exchange routed them nowhere, or they had no destination
  std::uint64_t refused = 0;     // a full queue refused them
  move_counts& operator+=(const move_counts& o) {
    moved += o.moved;
    gone += o.gone;
    unroutable += o.unroutable;
    refused += o.refused;
    return *this;
  }
};

// `selected` is what a browse of `from` read (broker thread, right after it).
move_counts move_ready(vhost& v, storage_context& storage, queue& from, const std::vector<ready_view>& selected,
                       const destination_of& to);

}  // namespace roost
