// One store per database file: an exclusive flock() held on the file for
// the store's lifetime, so a second broker pointed at the same data dir is
// refused at open instead of writing into the same file.
//
// flock() rather than SQLite's own locking_mode=EXCLUSIVE because the
// latter cannot be combined with the read-only look open_sqlite_store takes
// at a WAL file first. The lock is on the database file itself (no extra
// file in the data dir); flock and SQLite's fcntl locks do not interact.
// One rule follows from fcntl semantics: closing ANY descriptor of the file
// drops all of this process's fcntl locks on it, SQLite's included, so the
// lock must be released only after the SQLite connection has closed.
#pragma once

#include <string>

namespace roost::storage {

class file_lock {
 public:
  file_lock() = default;
  file_lock(file_lock&& other) noexcept;
  file_lock& operator=(file_lock&& other) noexcept;
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;
  ~file_lock() { release(); }

  // Opens (creating an empty file if absent: SQLite takes an empty file as
  // an empty database) and locks path. False, with a one-line reason in
  // error, if another process holds it or it cannot be opened.
  bool acquire(const std::string& path, std::string& error);
  void release();

 private:
  int fd_ = -1;
};

}  // namespace roost::storage
