#include "replication/batch_log.hpp"

namespace roost::replication {

void batch_log::append(std::uint64_t seq, std::shared_ptr<const std::string> encoded) {
  if (!batches_.empty() && seq != newest() + 1) clear();
  if (batches_.empty()) first_seq_ = seq;
  bytes_ += encoded->size();
  batches_.push_back(std::move(encoded));
  while (bytes_ > budget_ && batches_.size() > 1) {
    bytes_ -= batches_.front()->size();
    batches_.pop_front();
    ++first_seq_;
  }
}

std::shared_ptr<const std::string> batch_log::find(std::uint64_t seq) const {
  if (batches_.empty() || seq < first_seq_ || seq > newest()) return nullptr;
  return batches_[seq - first_seq_];
}

void batch_log::clear() {
  batches_.clear();
  bytes_ = 0;
  first_seq_ = 0;
}

}  // namespace roost::replication
