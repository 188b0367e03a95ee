// When a connection stops reading or pauses its consumers, and why:
// its own output backed up past the high-water mark (consumers pause until
// the writer drains it), a broker-wide alarm (publishers are blocked, and
// told so with connection.blocked if they understand it), a reply waiting
// for the store, or a queue it publishes to holding publishers back
// (broker/flow/). stream_session asks should_pause_reading() before each read.
#include "broker/protocol/connection.hpp"

#include "broker/common/log.hpp"
#include "broker/model/broker.hpp"
#include "broker/protocol/channel.hpp"

namespace roost {

bool connection::over_high_water() const { return out_.size() > broker_.cfg().connection_high_water; }

void connection::release_input() {
  input_held_ = false;
  events_.input_released();
}

bool connection::should_pause_reading() {
  if (over_high_water() || input_held_) return true;
  update_blocked();
  return blocked_ || held_by_queues();
}

void connection::update_blocked() {
  bool block = has_published_ && state_ == state::open && broker_.publish_alarm();
  if (block == blocked_) return;
  blocked_ = block;
  if (blocked_capability_) {
    if (block) send(0, amqp::connection_blocked{broker_.alarm_reason()});
    else send(0, amqp::connection_unblocked{});
  }
  log::info("connection " + peer_ + (block ? std::string(" blocked: ") + broker_.alarm_reason() : " unblocked"));
}

void connection::hold_for_queue(queue& q) {
  if (holds_.held_by(q) || consumes_from(q)) return;
  holds_.add(q, reader_wakeup());
}

bool connection::held_by_queues() {
  if (holds_.empty()) return false;
  return holds_.still_held(state_ == state::open ? vhost_ : nullptr, reader_wakeup());
}

publisher_holds::wake_fn connection::reader_wakeup() const {
  // By id: the connection may be gone when the queue lets go.
  return [&b = broker_, id = id_] {
    auto it = b.connections().find(id);
    if (it != b.connections().end()) it->second->events_.input_released();
  };
}

bool connection::consumes_from(const queue& q) const {
  for (const auto& [number, ch] : channels_)
    for (const auto& [tag, c] : ch->consumers())
      if (c->source() == &q) return true;
  return false;
}

void connection::output_drained() {
  if (!paused_ || over_high_water()) return;
  paused_ = false;
  for (auto& [number, ch] : channels_) ch->resume_consumers();
}

void connection::output_appended() {
  if (over_high_water()) paused_ = true;
  events_.output_ready();
}

}  // namespace roost
