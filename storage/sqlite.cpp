// The sqlite3 C API behind sqlite.hpp's RAII types. Error messages name
// SQLite's own explanation ("database or disk is full", "file is not a
// database") because those are what an operator can act on.
#include "storage/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace roost::storage::sqlite {

namespace {

[[noreturn]] void throw_error(sqlite3* db, int code) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw sqlite_error(code & 0xff, message);
}

// sqlite3_bind_text/blob treat a null pointer as SQL NULL; an empty view's
// data() may be null, and an empty string is not NULL.
const char* non_null(std::string_view value) { return value.data() != nullptr ? value.data() : ""; }

}  // namespace

// ---- statement ----

statement::statement(sqlite3* db, std::string_view sql) {
  // PERSISTENT: these statements are prepared once and reused for the
  // store's lifetime, which is what the flag tells SQLite to optimise for.
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &handle_,
                              nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(handle_);
    handle_ = nullptr;
    throw_error(db, rc);
  }
}

statement::statement(statement&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(handle_); }

void statement::fail(int code) const { throw_error(sqlite3_db_handle(handle_), code); }

statement& statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(handle_, index, value);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

statement& statement::bind(int index, std::optional<std::int64_t> value) {
  if (value) return bind(index, *value);
  int rc = sqlite3_bind_null(handle_, index);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

statement& statement::bind_text(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(handle_, index, non_null(value), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

statement& statement::bind_blob(int index, std::string_view value) {
  int rc = sqlite3_bind_blob64(handle_, index, non_null(value), value.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(handle_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

void statement::run() {
  each_row([](statement&) {});
}

void statement::reset() {
  // The step error, if any, was already reported; reset would repeat it.
  sqlite3_reset(handle_);
  sqlite3_clear_bindings(handle_);
}

std::int64_t statement::column_int(int index) const { return sqlite3_column_int64(handle_, index); }

std::optional<std::int64_t> statement::column_optional_int(int index) const {
  if (sqlite3_column_type(handle_, index) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(handle_, index);
}

std::string statement::column_bytes(int index) const { return std::string(column_view(index)); }

std::string_view statement::column_view(int index) const {
  const void* data = sqlite3_column_blob(handle_, index);
  int size = sqlite3_column_bytes(handle_, index);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

// ---- database ----

database::database(const std::string& path, int flags) {
  int rc = sqlite3_open_v2(path.c_str(), &handle_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle_ != nullptr ? sqlite3_errmsg(handle_) : sqlite3_errstr(rc);
    sqlite3_close_v2(handle_);
    handle_ = nullptr;
    throw sqlite_error(rc & 0xff, message);
  }
  sqlite3_extended_result_codes(handle_, 1);
}

database::database(database&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

database& database::operator=(database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

database::~database() { sqlite3_close_v2(handle_); }

void database::exec(const std::string& sql) {
  int rc = sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_error(handle_, rc);
}

std::int64_t database::query_int(std::string_view sql) {
  statement s = prepare(sql);
  std::int64_t value = s.step() ? s.column_int(0) : 0;
  s.reset();
  return value;
}

std::string database::query_text(std::string_view sql) {
  statement s = prepare(sql);
  std::string value = s.step() ? s.column_bytes(0) : std::string();
  s.reset();
  return value;
}

std::int64_t database::total_changes() const { return sqlite3_total_changes64(handle_); }

bool database::in_transaction() const { return handle_ != nullptr && sqlite3_get_autocommit(handle_) == 0; }

// ---- transaction ----

transaction::transaction(database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction() {
  // A failed COMMIT may already have rolled back (SQLITE_FULL, IOERR):
  // only roll back what is still open.
  if (open_ && db_.in_transaction()) {
    try {
      db_.exec("ROLLBACK");
    } catch (const sqlite_error&) {
      // Nothing more can be done; the next BEGIN reports the state.
    }
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace roost::storage::sqlite
