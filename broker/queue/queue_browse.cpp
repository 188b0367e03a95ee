// Browsing a queue: a walk over the lanes, highest priority first, each
// lane's messages in memory and then its paged-out ones. The part in memory
// is read at once; the paged-out part through load_entries, a chunk at a
// time, its position found by arithmetic when the paged seqs are
// consecutive, else by the store (load_entries.skip), never by reading the
// messages before it. Nothing is changed: the messages read back
// are copies, and the lanes' own paging state is not touched.
#include <algorithm>
#include <memory>

#include "broker/queue/queue.hpp"

namespace roost {

namespace {
// Rows per store read when a filter decides how many rows a page needs.
constexpr std::size_t filtered_chunk = 1000;
}  // namespace

struct queue::browse_walk {
  browse_request request;
  browsed_page done;
  browse_page page;
  std::size_t scanned = 0;
  std::size_t lanes_left = 0;  // lanes not yet finished; the next is lanes_[lanes_left - 1]
  bool in_store = false;       // the lane's part in memory is read
  std::uint64_t after_seq = 0;  // in the store: the last seq read
  std::uint64_t position = 0;   // of the next message looked at

  bool full() const { return page.found.size() >= request.limit || scanned >= request.scan_limit; }
  // Looks at the message at `position`: counts it, and keeps it if it matches.
  void look_at(ready_view v) {
    v.position = position++;
    ++scanned;
    if (!request.matches || request.matches(v)) page.found.push_back(std::move(v));
  }
  void finish(queue* source, bool at_end) {
    page.source = source;
    page.next_position = position;
    page.at_end = at_end;
    done(std::move(page));
  }
};

void queue::browse(browse_request request, browsed_page done) {
  auto w = std::make_shared<browse_walk>();
  w->request = std::move(request);
  w->done = std::move(done);
  w->lanes_left = stream_ ? 0 : lanes_.size();
  browse_step(w);
}

void queue::browse_step(const std::shared_ptr<browse_walk>& w) {
  const std::uint64_t from = w->request.from_position;
  for (; w->lanes_left > 0; --w->lanes_left, w->in_store = false) {
    const std::size_t l = w->lanes_left - 1;
    const ready_lane& lane = lanes_[l];
    if (!w->in_store) {
      if (w->position + lane.in_memory() <= from) {
        w->position += lane.in_memory();
      } else {
        for (const queued_message& m : lane.ready) {
          if (m.msg == nullptr) continue;  // expired in place
          if (w->position < from) {
            ++w->position;
            continue;
          }
          if (w->full()) return w->finish(this, false);
          w->look_at(ready_view{m.seq, 0, m.msg, m.redelivered, m.delivery_count, m.expires_at_ms});
        }
      }
      w->in_store = true;
      w->after_seq = lane.last_in_memory_seq;
    }
    if (lane.paged_count == 0 || storage_ == nullptr) continue;
    std::uint64_t skip = from > w->position ? from - w->position : 0;
    if (skip >= lane.paged_count) {
      w->position += lane.paged_count;
      continue;
    }
    if (w->full()) return w->finish(this, false);
    std::size_t budget = w->request.scan_limit - w->scanned;
    std::size_t chunk = std::min(budget, w->request.matches ? filtered_chunk : w->request.limit - w->page.found.size());
    auto into = std::make_shared<std::vector<storage::loaded_entry>>();
    storage::load_entries load{store_id_, w->after_seq, chunk, into, storage::lane_base(l + 1)};
    if (skip > 0 && w->after_seq == lane.last_in_memory_seq && lane.paged_seqs_consecutive())
      load.after_seq += skip;  // position p of the store part is seq last_in_memory_seq + 1 + p
    else
      load.skip = skip;
    page_store()->submit({std::move(load)}, [token = alive_.watch(), w, into, chunk, skip](bool ok) {
      if (*token == nullptr || !ok) return w->finish(*token, true);  // the queue is gone, or the store failed
      queue& q = **token;
      w->position += skip;
      for (storage::loaded_entry& e : *into) {
        if (w->full()) return w->finish(&q, false);  // a filtered chunk can hold more matches than the page
        w->after_seq = e.entry.seq;
        if (q.skip_loaded(e)) continue;  // expired while paged out
        w->look_at(ready_view{e.entry.seq, 0, rebuild(e), e.entry.delivered, e.entry.delivery_count,
                              e.entry.expires_at_ms});
      }
      if (into->size() < chunk) {  // the lane's store part is read
        --w->lanes_left;
        w->in_store = false;
      }
      q.browse_step(w);
    });
    return;
  }
  w->finish(this, true);
}

void queue::read_ready(const std::vector<std::uint64_t>& seqs, browsed_page done) {
  browse_page page;
  page.source = this;
  page.at_end = true;
  std::vector<storage::operation> loads;
  std::vector<std::shared_ptr<std::vector<storage::loaded_entry>>> results;
  for (std::uint64_t seq : seqs) {
    std::size_t l = storage::lane_of(seq);
    if (stream_ || l >= lanes_.size() || seq == 0) continue;
    const ready_lane& lane = lanes_[l];
    if (seq <= lane.last_in_memory_seq) {
      auto at = std::lower_bound(lane.ready.begin(), lane.ready.end(), seq,
                                 [](const queued_message& m, std::uint64_t s) { return m.seq < s; });
      if (at != lane.ready.end() && at->seq == seq && at->msg != nullptr)
        page.found.push_back(ready_view{seq, 0, at->msg, at->redelivered, at->delivery_count, at->expires_at_ms});
    } else if (lane.paged_count > 0 && storage_ != nullptr) {
      // seqs are keys: "one entry after seq - 1, before seq + 1" is exactly that entry.
      results.push_back(std::make_shared<std::vector<storage::loaded_entry>>());
      loads.emplace_back(storage::load_entries{store_id_, seq - 1, 1, results.back(), seq + 1});
    }
  }
  if (loads.empty()) return done(std::move(page));
  page_store()->submit(std::move(loads), [token = alive_.watch(), results, page = std::move(page),
                                          done = std::move(done)](bool ok) mutable {
    page.source = *token;
    if (*token != nullptr && ok)
      for (const auto& found : results)
        for (storage::loaded_entry& e : *found)
          if (!(*token)->skip_loaded(e))
            page.found.push_back(ready_view{e.entry.seq, 0, rebuild(e), e.entry.delivered, e.entry.delivery_count,
                                            e.entry.expires_at_ms});
    done(std::move(page));
  });
}

}  // namespace roost
