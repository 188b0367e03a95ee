// etcd's v3 API as its JSON gateway speaks it (etcd 3.4, POST /v3/...):
// the request bodies Roost sends and the parts of the answers it reads.
// Pure code, no sockets, so every shape of answer is unit tested and
// fuzzed. Keys and values travel base64-encoded; 64-bit numbers travel as
// JSON strings, and fields at their default (false, 0, empty) are left out,
// as proto3's JSON mapping says.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace roost::cluster::etcd {

// The gateway's paths.
inline constexpr std::string_view lease_grant_path = "/v3/lease/grant";
inline constexpr std::string_view lease_keepalive_path = "/v3/lease/keepalive";
inline constexpr std::string_view lease_revoke_path = "/v3/lease/revoke";
inline constexpr std::string_view range_path = "/v3/kv/range";
inline constexpr std::string_view put_path = "/v3/kv/put";
inline constexpr std::string_view txn_path = "/v3/kv/txn";

// An answer that is not what etcd sends (not JSON, a field of the wrong
// type, an error object): its text says what was wrong.
class bad_answer : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct key_value {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

struct lease_grant {
  std::int64_t id = 0;
  std::int64_t ttl_seconds = 0;
};

// A transaction's outcome: whether the comparisons held, the store's
// revision after it, and the keys a range in the branch that ran returned.
struct txn_result {
  bool succeeded = false;
  std::int64_t revision = 0;
  std::vector<key_value> range;
};

std::string lease_grant_body(std::int64_t ttl_seconds);
std::string lease_keepalive_body(std::int64_t lease);
std::string lease_revoke_body(std::int64_t lease);
// A put, tied to `lease` unless it is 0.
std::string put_body(std::string_view key, std::string_view value, std::int64_t lease);
// Every key under `prefix` (keys that start with it).
std::string range_prefix_body(std::string_view prefix);
// One key.
std::string range_body(std::string_view key);
// Puts key = value (tied to lease) only if the key does not exist; reads
// it otherwise: an election, where the create revision of the key is the
// winner's epoch.
std::string create_if_absent_body(std::string_view key, std::string_view value, std::int64_t lease);
// create_if_absent_body, and only while guard_key is as it was read at
// guard_mod_revision (0: still absent): an election open only to the nodes
// an unchanged in-sync replica list names.
std::string create_if_absent_unless_changed_body(std::string_view key, std::string_view value, std::int64_t lease,
                                                 std::string_view guard_key, std::int64_t guard_mod_revision);
// Puts key = value only while `guard_key` still has `guard_create_revision`
// (the writer still holds the leadership it won); reads guard_key otherwise.
std::string put_if_held_body(std::string_view key, std::string_view value, std::string_view guard_key,
                             std::int64_t guard_create_revision);

lease_grant parse_lease_grant(std::string_view answer);
// The lease's remaining TTL in seconds; 0 when the lease has expired or
// is unknown (etcd then leaves TTL out).
std::int64_t parse_keepalive(std::string_view answer);
txn_result parse_txn(std::string_view answer);
std::vector<key_value> parse_range(std::string_view answer);

// The first key after every key that starts with prefix: range_end for a prefix scan.
std::string prefix_end(std::string_view prefix);

}  // namespace roost::cluster::etcd
