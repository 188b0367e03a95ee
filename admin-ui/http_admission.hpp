// Who gets a connection to the admin HTTP port when many are open, so that
// connections that never finish a request cannot lock out real ones.
//
// A session is unproven until one of its requests carried a valid login;
// unproven sessions are capped in total and per peer address, and when a
// new connection would pass a cap, the oldest unproven session (of that
// peer, for the per-peer cap) is closed to make room instead of refusing
// the newcomer: someone holding hundreds of half-sent requests keeps
// losing the oldest of them, while a real request, sent at once, is served
// before its turn to go could come. Logged-in sessions are never closed for
// a newcomer; they have a cap of their own, and only when every open
// session is logged in is a newcomer refused. The head deadline in
// http_server (a few seconds for an unproven session) bounds how long any
// of them waits. Pure bookkeeping, no I/O; lives on the broker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace roost::admin {

class http_admission {
 public:
  struct limits {
    std::size_t sessions = 1024;          // open at once, logged in or not
    std::size_t unproven = 256;           // of those, not (yet) logged in
    std::size_t unproven_per_peer = 32;   // of those, from one address
  };
  // Sessions are numbered in arrival order by the caller.
  using session_id = std::uint64_t;
  struct verdict {
    bool admit = true;
    std::optional<session_id> evict;  // close this one to make room (already forgotten here)
  };

  explicit http_admission(limits l) : limits_(l) {}

  verdict arrive(session_id id, const std::string& peer);
  // A request of this session carried a valid login.
  void logged_in(session_id id);
  // The session ended (closed by either side, or evicted).
  void left(session_id id);

  std::size_t open() const { return sessions_.size(); }
  std::size_t unproven() const { return unproven_; }
  std::size_t unproven_from(const std::string& peer) const;

 private:
  struct session {
    std::string peer;
    bool proven = false;
  };
  // The oldest unproven session, of `peer` if given.
  std::optional<session_id> oldest_unproven(const std::string* peer) const;
  void uncount_unproven(const std::string& peer);

  limits limits_;
  std::map<session_id, session> sessions_;  // ordered by arrival
  std::unordered_map<std::string, std::size_t> unproven_by_peer_;
  std::size_t unproven_ = 0;
};

}  // namespace roost::admin
