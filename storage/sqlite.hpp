// A thin RAII layer over the sqlite3 C API: a connection, a prepared
// statement and a transaction guard. Every other storage file goes through
// this one so handles are always released, errors always carry SQLite's own
// message, and no caller forgets to reset a statement.
//
// Errors are thrown as sqlite_error: the store catches them at the two
// places where it can act on them (opening, and one batch's transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace roost::storage::sqlite {

class sqlite_error : public std::runtime_error {
 public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  // The primary result code (SQLITE_FULL, SQLITE_NOTADB, ...).
  int code() const { return code_; }

 private:
  int code_;
};

class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql);
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Parameters are 1-based, as in SQL. Text and blobs are bound without a
  // copy: the caller keeps them alive until the statement is reset, which
  // run() and each_row() do before returning.
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, std::uint64_t value) { return bind(index, static_cast<std::int64_t>(value)); }
  // Absent binds SQL NULL.
  statement& bind(int index, std::optional<std::int64_t> value);
  statement& bind_text(int index, std::string_view value);
  statement& bind_blob(int index, std::string_view value);

  // Steps once: true if a row is available, false when done.
  bool step();
  // Steps to completion (for statements that return no rows) and resets.
  void run();
  // Steps through rows, calling on_row(*this) for each until it returns
  // false or the rows end, then resets.
  template <class F>
  void each_row_while(F&& on_row) {
    try {
      while (step() && on_row(*this)) {
      }
    } catch (...) {
      reset();
      throw;
    }
    reset();
  }
  // Every row.
  template <class F>
  void each_row(F&& on_row) {
    each_row_while([&](statement& s) {
      on_row(s);
      return true;
    });
  }
  void reset();

  std::int64_t column_int(int index) const;
  std::uint64_t column_u64(int index) const { return static_cast<std::uint64_t>(column_int(index)); }
  // NULL is absent (column_int would read it as 0).
  std::optional<std::int64_t> column_optional_int(int index) const;
  // Text and blob columns both come back as bytes; NULL is empty.
  std::string column_bytes(int index) const;
  // The same without a copy: valid until the next step or reset.
  std::string_view column_view(int index) const;

 private:
  [[noreturn]] void fail(int code) const;
  sqlite3_stmt* handle_ = nullptr;
};

class database {
 public:
  database() = default;
  // flags are sqlite3_open_v2 flags (SQLITE_OPEN_READONLY, ...).
  database(const std::string& path, int flags);
  database(database&& other) noexcept;
  database& operator=(database&& other) noexcept;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database();

  explicit operator bool() const { return handle_ != nullptr; }
  // Runs one or more statements that return nothing of interest.
  void exec(const std::string& sql);
  statement prepare(std::string_view sql) { return statement(handle_, sql); }
  // The first column of the first row of `sql` (e.g. a PRAGMA's value).
  std::int64_t query_int(std::string_view sql);
  std::string query_text(std::string_view sql);
  // Rows inserted, updated or deleted since the connection opened.
  std::int64_t total_changes() const;
  bool in_transaction() const;

 private:
  sqlite3* handle_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()
// succeeded, so an exception anywhere inside leaves nothing behind.
class transaction {
 public:
  explicit transaction(database& db);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();
  void commit();

 private:
  database& db_;
  bool open_ = true;
};

}  // namespace roost::storage::sqlite
