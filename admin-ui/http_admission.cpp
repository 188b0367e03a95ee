#include "admin-ui/http_admission.hpp"

namespace roost::admin {

std::size_t http_admission::unproven_from(const std::string& peer) const {
  auto it = unproven_by_peer_.find(peer);
  return it == unproven_by_peer_.end() ? 0 : it->second;
}

// O(open sessions): runs only when a cap is reached, over at most limits.sessions entries.
std::optional<http_admission::session_id> http_admission::oldest_unproven(const std::string* peer) const {
  for (const auto& [id, s] : sessions_)
    if (!s.proven && (peer == nullptr || s.peer == *peer)) return id;
  return std::nullopt;
}

void http_admission::uncount_unproven(const std::string& peer) {
  auto it = unproven_by_peer_.find(peer);
  if (--it->second == 0) unproven_by_peer_.erase(it);
  --unproven_;
}

http_admission::verdict http_admission::arrive(session_id id, const std::string& peer) {
  verdict v;
  if (unproven_from(peer) >= limits_.unproven_per_peer) v.evict = oldest_unproven(&peer);
  else if (unproven_ >= limits_.unproven || sessions_.size() >= limits_.sessions) v.evict = oldest_unproven(nullptr);
  if (!v.evict && sessions_.size() >= limits_.sessions) {
    v.admit = false;
    return v;
  }
  if (v.evict) left(*v.evict);
  sessions_.emplace(id, session{peer, false});
  ++unproven_by_peer_[peer];
  ++unproven_;
  return v;
}

void http_admission::logged_in(session_id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.proven) return;
  it->second.proven = true;
  uncount_unproven(it->second.peer);
}

void http_admission::left(session_id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.proven) uncount_unproven(it->second.peer);
  sessions_.erase(it);
}

}  // namespace roost::admin
