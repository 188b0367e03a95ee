// The order delayed messages come due in: a binary min-heap keyed by
// (due time, arrival number), so messages due at the same millisecond leave
// in the order they arrived. O(log n) to add or take one; nothing per
// message but the heap slot, so a million pending messages cost one vector
// and one timer (the owner arms a single timer for next_due()).
//
// Times are int64 milliseconds (wall clock since the Unix epoch in the
// broker): a year of delay is 3.2e10 ms, far from any overflow.
// Pure data, no clock and no threads: the owner says what "now" is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace roost {

template <class T>
class delay_schedule {
 public:
  void push(std::int64_t due_ms, T item) {
    heap_.push_back(slot{due_ms, next_arrival_++, std::move(item)});
    std::push_heap(heap_.begin(), heap_.end(), later{});
  }

  // When the earliest item is due, or nothing when empty.
  std::optional<std::int64_t> next_due() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().due_ms;
  }

  // Moves up to `limit` items due at or before now_ms to `out`, in due
  // order; returns how many.
  std::size_t pop_due(std::int64_t now_ms, std::vector<T>& out, std::size_t limit) {
    std::size_t taken = 0;
    while (taken < limit && !heap_.empty() && heap_.front().due_ms <= now_ms) {
      std::pop_heap(heap_.begin(), heap_.end(), later{});
      out.push_back(std::move(heap_.back().item));
      heap_.pop_back();
      ++taken;
    }
    return taken;
  }

  // Calls f(due_ms, arrival, item) for every item, in no particular order.
  // The arrival number names an item for as long as it is scheduled.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : heap_) f(s.due_ms, s.arrival, s.item);
  }
  // Removes the items pick(due_ms, arrival, item) chooses, moving them to
  // `out`; returns how many. O(n): for an operator's cancel, not the hot path.
  template <class P>
  std::size_t take_if(P&& pick, std::vector<T>& out) {
    auto kept = std::stable_partition(heap_.begin(), heap_.end(),
                                      [&](const slot& s) { return !pick(s.due_ms, s.arrival, s.item); });
    std::size_t taken = static_cast<std::size_t>(heap_.end() - kept);
    for (auto it = kept; it != heap_.end(); ++it) out.push_back(std::move(it->item));
    heap_.erase(kept, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later{});
    return taken;
  }
  // Makes the items pick chooses due at due_ms instead, keeping their
  // arrival numbers; returns how many. O(n).
  template <class P>
  std::size_t reschedule_if(P&& pick, std::int64_t due_ms) {
    std::size_t moved = 0;
    for (slot& s : heap_)
      if (pick(s.due_ms, s.arrival, s.item)) {
        s.due_ms = due_ms;
        ++moved;
      }
    if (moved > 0) std::make_heap(heap_.begin(), heap_.end(), later{});
    return moved;
  }
  std::size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct slot {
    std::int64_t due_ms;
    std::uint64_t arrival;
    T item;
  };
  // std heap functions build a max-heap; "later" as less-than makes it a min-heap.
  struct later {
    bool operator()(const slot& a, const slot& b) const {
      return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.arrival > b.arrival;
    }
  };

  std::vector<slot> heap_;
  std::uint64_t next_arrival_ = 0;
};

}  // namespace roost
