// A whole store as one file, for a cluster's follower that must start over:
// one the leader's retained batches no longer cover, or one whose store
// holds a batch the leader never had (replication/).
//
// take_snapshot copies a store's file with VACUUM INTO on a connection of
// its own: one read transaction, so the copy is consistent and the writer
// is never blocked (WAL). The copy's replication position is where the
// follower then goes on from. install_snapshot puts such a copy in place
// of a closed store's file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/store.hpp"

namespace roost::storage {

struct snapshot_taken {
  std::optional<std::string> error;
  batch_position position;  // the last batch the copy holds
  std::uint64_t size = 0;   // bytes
};

// Copies the store file `db_file` to `into_file` (replaced if present).
snapshot_taken take_snapshot(const std::string& db_file, const std::string& into_file);

// Replaces data_dir/file_name by `snapshot` (renamed, so on the same file
// system); the store must be closed. Its write-ahead log and shared-memory
// files go first: SQLite would otherwise replay the old log into the new
// file. An error text if the snapshot is not a store or cannot be moved.
std::optional<std::string> install_snapshot(const std::string& data_dir, const std::string& file_name,
                                            const std::string& snapshot);

}  // namespace roost::storage
