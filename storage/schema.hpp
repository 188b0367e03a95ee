// The on-disk schema: its tables, how a file is recognised as Roost's, and
// how an older file is brought up to date.
//
// A Roost file carries application_id = roost_application_id and
// user_version = the number of migration steps applied. Migrations are an
// ordered list of SQL steps (step N takes version N to N+1), all pending
// steps applied in one transaction, so a file is always at a version this
// or an older binary wrote, never half-way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace roost::storage {

// "ROST": the header field (offset 68) that says "this file is Roost's".
inline constexpr std::int32_t roost_application_id = 0x524f5354;

// The schema version this binary writes (the number of migration steps).
int latest_schema_version();

// Checks a database opened read-only: is it empty, or Roost's, at a version
// we understand, and structurally sound? Returns a one-line reason to
// refuse it, or nothing if it is fine to open read-write. Throws
// sqlite_error for files SQLite cannot read at all (not a database).
std::optional<std::string> check_existing(sqlite::database& db);

// Sets the connection's pragmas (journal, sync, cache; locking for a
// scratch store) for the store's use, before its first read.
void configure_connection(sqlite::database& db, const open_options& options);

// Called on a clean close: checkpoints the WAL and switches the file back
// to rollback-journal mode, so a stopped broker's data dir holds one
// self-contained file (safe to copy), and the read-only look the next open
// takes needs no -wal/-shm files created. Errors are ignored: the file is
// then simply left in WAL mode, which is just as valid.
void leave_self_contained(sqlite::database& db);

// Applies every migration step the file lacks, in one transaction.
void migrate(sqlite::database& db);

}  // namespace roost::storage
