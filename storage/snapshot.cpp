#include "storage/snapshot.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

#include "storage/sqlite.hpp"

namespace roost::storage {

namespace fs = std::filesystem;

namespace {

batch_position position_of(const std::string& file) {
  sqlite::database db(file, SQLITE_OPEN_READONLY);
  batch_position position;
  db.prepare("SELECT epoch, seq FROM replication_position").each_row([&](sqlite::statement& row) {
    position = {row.column_u64(0), row.column_u64(1)};
  });
  return position;
}

}  // namespace

snapshot_taken take_snapshot(const std::string& db_file, const std::string& into_file) {
  snapshot_taken out;
  std::error_code ignored;
  fs::remove(into_file, ignored);
  try {
    {
      sqlite::database db(db_file, SQLITE_OPEN_READONLY);
      db.exec("PRAGMA busy_timeout = 5000");
      sqlite::statement vacuum = db.prepare("VACUUM INTO ?1");
      vacuum.bind_text(1, into_file);
      vacuum.step();
    }
    out.position = position_of(into_file);
    out.size = fs::file_size(into_file);
  } catch (const std::exception& e) {
    out.error = std::string("cannot copy the store for a snapshot: ") + e.what();
    fs::remove(into_file, ignored);
  }
  return out;
}

std::optional<std::string> install_snapshot(const std::string& data_dir, const std::string& file_name,
                                            const std::string& snapshot) {
  fs::path file = fs::path(data_dir) / file_name;
  try {
    position_of(snapshot);  // a store, or this throws
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(file.string() + suffix);
    fs::rename(snapshot, file);
  } catch (const std::exception& e) {
    return "cannot install the snapshot " + snapshot + ": " + e.what();
  }
  return std::nullopt;
}

}  // namespace roost::storage
