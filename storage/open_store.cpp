// open_sqlite_store: everything that must be true before the broker may
// use a data dir, checked in an order that changes nothing on disk until
// the last check has passed.
//
// 1. The data dir exists (or is created) and a file can really be created
//    in it (a probe file, created and removed: permission bits lie to root
//    and to read-only mounts).
// 2. An existing database file is opened READ-ONLY and must be empty or
//    Roost's, at a schema version we know, and pass quick_check of what
//    recovery reads (schema.cpp says why not of the message bodies).
// 3. The file is locked against other processes (file_lock.hpp); a second
//    broker on the same data dir stops here.
// 4. Only then is it opened read-write, switched to WAL, migrated, and the
//    startup state read.
// A scratch store skips 2: its old file is deleted first by definition.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "storage/file_lock.hpp"
#include "storage/recovery.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite_store.hpp"

namespace roost::storage {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> prepare_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return "data dir " + dir.string() + " cannot be created: " + ec.message();
  }
  fs::path probe = dir / (".roost-write-probe-" + std::to_string(::getpid()));
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "data dir " + dir.string() + " is not writable: " + std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

// A scratch store starts empty: the database and every file SQLite may
// keep next to it go.
std::optional<std::string> remove_scratch_files(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    fs::path p = file;
    p += suffix;
    fs::remove(p, ec);
    if (ec) return "cannot be replaced (removing " + p.string() + ": " + ec.message() + ")";
  }
  return std::nullopt;
}

// Turns SQLite's wording into what the operator should know.
std::string describe(const sqlite::sqlite_error& e) {
  switch (e.code()) {
    case SQLITE_NOTADB: return std::string("is not an SQLite database (") + e.what() + ")";
    case SQLITE_CORRUPT: return std::string("is corrupt (") + e.what() + ")";
    case SQLITE_BUSY: return std::string("is in use by another process, another roost? (") + e.what() + ")";
    default: return std::string("cannot be opened: ") + e.what();
  }
}

std::optional<std::string> check_existing_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  if (::access(file.c_str(), R_OK | W_OK) != 0) return std::string("is not writable: ") + std::strerror(errno);
  // Read-only, so a file we refuse is never rolled back, checkpointed or
  // converted. A cleanly closed Roost file is in rollback mode (see
  // leave_self_contained), a crashed one has its -wal and -shm, so reading
  // creates no files; only a WAL-mode file missing them (copied without
  // them?) gets empty ones created by SQLite.
  sqlite::database db(file.string(), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  return check_existing(db);
}

std::unique_ptr<store> open_checked(const fs::path& file, const open_options& options, poster post,
                                   file_lock lock) {
  sqlite::database db(file.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  configure_connection(db, options);
  migrate(db);
  recovered_state recovered = read_recovered_state(db);
  return std::make_unique<sqlite_store>(std::move(lock), std::move(db), options, std::move(post),
                                        std::move(recovered));
}

}  // namespace

std::unique_ptr<store> open_sqlite_store(const open_options& options, poster post, std::string& error) {
  fs::path dir = options.data_dir.empty() ? fs::path(".") : fs::path(options.data_dir);
  fs::path file = dir / options.file_name;
  if (!post) {
    error = "open_sqlite_store needs a poster to run completions with";
    return nullptr;
  }
  if (auto problem = prepare_directory(dir)) {
    error = *problem;
    return nullptr;
  }
  try {
    file_lock lock;
    std::string lock_error;
    std::optional<std::string> problem;
    // A scratch file is replaced, but not from under a process still using it.
    if (options.scratch && !lock.acquire(file.string(), lock_error)) problem = lock_error;
    if (!problem) problem = options.scratch ? remove_scratch_files(file) : check_existing_file(file);
    // (Again for a scratch store: its old file, and so the old lock, is gone.)
    if (!problem && !lock.acquire(file.string(), lock_error)) problem = lock_error;
    if (problem) {
      error = file.string() + " " + *problem;
      return nullptr;
    }
    return open_checked(file, options, std::move(post), std::move(lock));
  } catch (const sqlite::sqlite_error& e) {
    error = file.string() + " " + describe(e);
    return nullptr;
  }
}

}  // namespace roost::storage
