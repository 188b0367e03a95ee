// Putting a message that already left one queue into others: dead-lettering
// and the admin API's move and redrive. Unlike a publish, the copies go into
// the store in the caller's submission, together with the removal of the
// source's entry, so that a crash leaves the message in exactly one place.
#pragma once

#include <memory>
#include <vector>

#include "broker/model/message.hpp"
#include "broker/model/storage_context.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

// Appends msg to every target (queues and streams). When a persisted queue
// keeps a copy, msg gets a store id first and its row goes into `ops`
// ahead of the entries; a stream's copy is a row of its own. The caller
// submits `ops` and then dispatches the targets.
void append_copies(storage_context* storage, std::shared_ptr<message> msg, const std::vector<queue*>& targets,
                   std::vector<storage::operation>& ops);

}  // namespace roost
