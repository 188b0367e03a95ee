// Reading what the broker needs at startup: every definition (access
// control and policies included), and for each
// queue how many entries it holds and its highest seq, without loading the
// entries themselves (deep queues are paged in later with load_entries).
#pragma once

#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace roost::storage {

// Reads in one read transaction, so the parts are consistent.
recovered_state read_recovered_state(sqlite::database& db);

}  // namespace roost::storage
