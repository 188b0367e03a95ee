#include "broker/stream/stream_log.hpp"

#include <algorithm>

namespace roost {

stream_log::appended stream_log::append(message_ref msg, std::int64_t now_ms, std::int64_t max_segment_bytes) {
  std::uint64_t size = msg->body.size();
  std::int64_t at = std::max(now_ms, last_ms_);
  last_ms_ = at;
  bool starts = segments_.empty() ||
                (segments_.back().count > 0 &&
                 segments_.back().bytes + size > static_cast<std::uint64_t>(std::max<std::int64_t>(max_segment_bytes, 1)));
  if (starts) segments_.push_back(stream_segment{next_offset_, 0, 0, at, at});
  stream_segment& s = segments_.back();
  ++s.count;
  s.bytes += size;
  s.last_ms = at;
  bytes_ += size;
  stream_record record{std::move(msg), next_offset_++, at};
  tail_.push_back(record);
  tail_body_bytes_ += size;
  trim_tail();
  return appended{std::move(record), starts};
}

void stream_log::trim_tail() {
  if (tail_messages_ == 0) return;
  // The newest message stays even when it alone is over the byte budget.
  while (tail_.size() > 1 && (tail_.size() > tail_messages_ || tail_body_bytes_ > tail_bytes_)) {
    tail_body_bytes_ -= tail_.front().msg->body.size();
    tail_.pop_front();
  }
}

std::size_t stream_log::retain(const stream_arguments& args, std::int64_t now_ms) {
  std::size_t dropped = 0;
  auto over = [&](const stream_segment& head) {
    if (args.max_length_bytes && bytes_ > static_cast<std::uint64_t>(*args.max_length_bytes)) return true;
    return args.max_age_ms && head.last_ms < now_ms - *args.max_age_ms;
  };
  while (segments_.size() > 1 && over(segments_.front())) {
    bytes_ -= segments_.front().bytes;
    segments_.pop_front();
    ++dropped;
  }
  std::uint64_t first = first_offset();
  while (!tail_.empty() && tail_.front().offset < first) {
    tail_body_bytes_ -= tail_.front().msg->body.size();
    tail_.pop_front();
  }
  return dropped;
}

const stream_record* stream_log::in_memory(std::uint64_t offset) const {
  if (tail_.empty() || offset < tail_.front().offset || offset >= next_offset_) return nullptr;
  return &tail_[offset - tail_.front().offset];
}

std::uint64_t stream_log::resolve(const stream_start& start) const {
  using kind = stream_start::kind;
  switch (start.from) {
    case kind::first:
      return first_offset();
    case kind::last:
      return message_count() == 0 ? next_offset_ : next_offset_ - 1;
    case kind::next:
      return next_offset_;
    case kind::offset:
      // Past the end: the reader waits until that offset exists, as RabbitMQ's does.
      return std::max(start.offset, first_offset());
    case kind::timestamp_ms:
      // The first segment holding a message appended at or after the time;
      // its reader skips the earlier ones in it.
      for (const stream_segment& s : segments_)
        if (s.last_ms >= start.timestamp_ms) return s.first_offset;
      return next_offset_;
  }
  return next_offset_;
}

void stream_log::restore(const std::vector<storage::segment_summary>& segments, std::uint64_t max_seq) {
  for (const storage::segment_summary& s : segments) {
    if (s.entry_count == 0) continue;  // its entries were removed by a retention whose segment row survived
    segments_.push_back(stream_segment{offset_of(s.first_seq), s.entry_count, s.body_bytes, s.first_appended_at_ms,
                                       s.last_appended_at_ms});
    bytes_ += s.body_bytes;
    next_offset_ = offset_of(s.first_seq) + s.entry_count;
    last_ms_ = std::max(last_ms_, s.last_appended_at_ms);
  }
  next_offset_ = std::max(next_offset_, max_seq);  // max_seq = the offset after the last one
}

}  // namespace roost
