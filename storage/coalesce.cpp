// One pass over a batch with two maps: the messages the batch inserts (with
// how many of their entries it inserts and cancels) and, per queue, the
// entries still cancellable. See coalesce.hpp for the rules.
#include "storage/coalesce.hpp"

#include <cstdint>
#include <unordered_map>

namespace roost::storage {

namespace {

struct message_state {
  std::size_t index = 0;  // of its insert_message
  std::size_t entries = 0;
  std::size_t cancelled = 0;
};

class coalescer {
 public:
  explicit coalescer(std::vector<operation*>& ops) : ops_(ops) {}

  std::size_t run() {
    for (std::size_t i = 0; i < ops_.size(); ++i)
      std::visit([&](auto& op) { handle(i, op); }, *ops_[i]);
    for (const auto& [id, state] : messages_)
      if (state.entries > 0 && state.cancelled == state.entries) drop(state.index);
    return dropped_;
  }

 private:
  void handle(std::size_t i, insert_message& op) { messages_[op.content.id] = message_state{i}; }

  void handle(std::size_t i, insert_entry& op) {
    auto message = messages_.find(op.entry.message_id);
    if (message == messages_.end()) return;  // message already on disk: write as submitted
    ++message->second.entries;
    live_[op.entry.queue_id][op.entry.seq] = i;
  }

  void handle(std::size_t i, remove_entry& op) {
    std::size_t* insert = find_live(op.queue_id, op.seq);
    if (insert == nullptr) return;
    ++messages_[std::get<insert_entry>(*ops_[*insert]).entry.message_id].cancelled;
    drop(*insert);
    drop(i);
    live_[op.queue_id].erase(op.seq);
  }

  void handle(std::size_t i, update_entry& op) {
    std::size_t* insert = find_live(op.entry.queue_id, op.entry.seq);
    if (insert == nullptr) return;
    // The fields update_entry writes (see operations.cpp); the rest of the
    // inserted entry stays as inserted.
    entry_record& target = std::get<insert_entry>(*ops_[*insert]).entry;
    target.delivery_count = op.entry.delivery_count;
    target.delivered = op.entry.delivered;
    target.expires_at_ms = op.entry.expires_at_ms;
    target.appended_at_ms = op.entry.appended_at_ms;
    drop(i);
  }

  void handle(std::size_t, const load_entries& op) { live_.erase(op.queue_id); }
  void handle(std::size_t, const purge_queue& op) { live_.erase(op.queue_id); }
  void handle(std::size_t, const delete_queue& op) { live_.erase(op.queue_id); }

  // Definitions, access control and policies never interact with entries:
  // they pass through as submitted. delete_vhost removes its queues'
  // entries but needs no barrier: an insert_entry and remove_entry pair
  // cancelled across it ends as running both would, with no entry, and a
  // load_entries after it is still a barrier of its own.
  template <class other>
  void handle(std::size_t, const other&) {}

  std::size_t* find_live(std::uint64_t queue_id, std::uint64_t seq) {
    auto queue = live_.find(queue_id);
    if (queue == live_.end()) return nullptr;
    auto entry = queue->second.find(seq);
    return entry == queue->second.end() ? nullptr : &entry->second;
  }

  void drop(std::size_t i) {
    ops_[i] = nullptr;
    ++dropped_;
  }

  std::vector<operation*>& ops_;
  std::unordered_map<std::uint64_t, message_state> messages_;
  // queue id -> seq -> index of the insert_entry, while it may still be cancelled.
  std::unordered_map<std::uint64_t, std::unordered_map<std::uint64_t, std::size_t>> live_;
  std::size_t dropped_ = 0;
};

}  // namespace

std::size_t coalesce(std::vector<operation*>& ops) { return coalescer(ops).run(); }

}  // namespace roost::storage
