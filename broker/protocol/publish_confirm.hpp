// The confirm of one persistent publish in confirm mode, shared by the
// message and the store completion.
//
// It is sent at whichever comes first: the commit that stores the message,
// or the moment every durable queue that got the message has had it acked
// (or dropped) by a consumer, as RabbitMQ does. With consumers keeping up,
// that second path confirms without waiting for an fsync, and the message
// is then never written at all (the store drops an entry inserted and
// removed within one batch). Broker thread only.
#pragma once

#include <cstdint>
#include <memory>

namespace roost {

class channel;

class publish_confirm {
 public:
  publish_confirm(std::shared_ptr<channel* const> publisher, std::uint64_t seq, std::uint32_t stored_copies)
      : publisher_(std::move(publisher)), seq_(seq), unsettled_(stored_copies) {}

  // A consumer acked (or rejected without requeue) one stored copy.
  void copy_settled() {
    if (unsettled_ > 0 && --unsettled_ == 0) send(true);
  }
  // The commit holding the message finished; ok = false means it was not stored.
  void committed(bool ok) { send(ok); }

 private:
  void send(bool ok);

  std::shared_ptr<channel* const> publisher_;
  std::uint64_t seq_;
  std::uint32_t unsettled_;
  bool sent_ = false;
};

}  // namespace roost
