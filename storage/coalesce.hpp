// Coalescing within one batch: work that cancels out before its transaction
// commits is never written.
//
// This is what makes "a persistent message acked before its batch commits
// is never written" true: its insert_entry and remove_entry meet in the
// same batch and are both dropped, and so is its insert_message once every
// entry the batch inserted for it is gone. An update_entry of an entry the
// batch inserts is folded into that insert.
//
// Only entries of messages inserted in the same batch are coalesced: the
// broker submits a message together with its entries, so that covers every
// fast ack, and it never skips the orphan-message cleanup a remove_entry
// does for a message already on disk. A load_entries, purge_queue or
// delete_queue of a queue is a barrier for that queue: earlier inserts are
// then written as submitted, so a load sees exactly what was submitted
// before it.
#pragma once

#include <cstddef>
#include <vector>

#include "storage/store.hpp"

namespace roost::storage {

// ops are one batch's operations in submission order. Operations that need
// not run are replaced by nullptr; folded updates modify their insert_entry
// in place. Returns how many operations were dropped.
std::size_t coalesce(std::vector<operation*>& ops);

}  // namespace roost::storage
