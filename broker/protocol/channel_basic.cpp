// basic.* methods: publish routing, consumers and deliveries, get, and the
// acknowledgement family (ack, nack, reject, recover).
#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/channel.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/names.hpp"
#include "broker/protocol/publish_confirm.hpp"
#include "broker/publish/enqueue.hpp"
#include "broker/expiry/wall_clock.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

// ---- consumers ----

bool channel_consumer::can_take() const {
  if (!channel_.flow_active() || channel_.conn().over_high_water()) return false;
  if (no_ack_) return true;
  return (prefetch_ == 0 || unacked_ < prefetch_) && !channel_.over_global_prefetch();
}

void channel_consumer::deliver(queue& from, queued_message&& m) {
  if (!no_ack_) ++unacked_;
  channel_.deliver(*this, from, std::move(m), !no_ack_);
}

void channel_consumer::queue_deleted(queue&) {
  queue_ = nullptr;
  channel_.consumer_lost_queue(*this);  // destroys this consumer
}

void channel::deliver(channel_consumer& c, queue& from, queued_message&& m, bool track) {
  std::uint64_t tag = next_delivery_tag_++;
  const message& msg = *m.msg;
  count(from, track ? message_event::deliver : message_event::deliver_no_ack, m.redelivered);
  conn_.send(id_, amqp::basic_deliver{c.tag(), tag, m.redelivered, msg.exchange, msg.routing_key});
  conn_.send_content(id_, m.msg);
  if (track) unacked_.add(unacked_delivery{tag, from.id(), std::move(m), &c, false});
  else from.settle(m);  // no-ack: delivered is done
}

void channel::count(queue& q, message_event e, bool redelivered) {
  message_stats& totals = conn_.owner().stats();
  totals.add(e);
  q.stats().add(e);
  if (redelivered) {
    totals.add(message_event::redeliver);
    q.stats().add(message_event::redeliver);
  }
}

void channel::consumer_lost_queue(channel_consumer& c) {
  std::string tag = c.tag();
  unacked_.orphan(&c);
  if (conn_.consumer_cancel_notify()) reply(amqp::basic_cancel{tag, true});
  consumers_.erase(tag);
}

void channel::cancel_consumer(const std::string& tag) {
  auto it = consumers_.find(tag);
  if (it == consumers_.end()) return;
  channel_consumer* c = it->second.get();
  unacked_.orphan(c);
  auto owned = std::move(it->second);
  consumers_.erase(it);
  if (queue* q = c->source()) vh().detach_consumer(*q, c);
}

void channel::cancel_all_consumers() {
  while (!consumers_.empty()) cancel_consumer(consumers_.begin()->first);
}

void channel::resume_consumers() {
  for (auto& [tag, c] : consumers_) {
    queue* q = c->source();
    if (q == nullptr) continue;
    // A stream serves this consumer's reader alone rather than all of them.
    if (stream* s = q->as_stream()) s->resume(c.get());
    else q->dispatch();
  }
}

void channel::on(const amqp::basic_consume& m) {
  if (m.queue == direct_reply_to::pseudo_queue) return consume_replies(m);
  std::string name = queue_name_or_last(m.queue);
  require(access::read, "queue", name);
  queue& q = vh().accessible_queue(name, conn_.id());
  std::string tag = m.consumer_tag.empty() ? generate_name("amq.ctag-") : m.consumer_tag;
  if (consumers_.contains(tag))
    throw connection_error(amqp::connection_reply::not_allowed, "attempt to reuse consumer tag '" + tag + "'");
  stream* s = q.as_stream();
  std::optional<stream_consumer_options> reading;
  if (s != nullptr) reading = stream_consume_options(q, m);
  else check_queue_consume(q, m);
  auto c = std::make_unique<channel_consumer>(*this, q, tag, m.no_ack, m.exclusive, consumer_prefetch_, m.arguments);
  channel_consumer* ref = c.get();
  consumers_.emplace(tag, std::move(c));
  if (s != nullptr) s->attach(ref, tag, *reading);
  // consume-ok must reach the client before the first delivery.
  if (!m.no_wait) reply(amqp::basic_consume_ok{tag});
  q.add_consumer(ref);
}

void channel::check_queue_consume(const queue& q, const amqp::basic_consume& m) {
  if ((m.exclusive && q.consumer_count() > 0) || q.has_exclusive_consumer())
    throw_access_refused(describe("queue", q.name(), vh().name()) + " in exclusive use");
  if (m.arguments.find(offset_header) != nullptr) {
    std::string what = describe("queue", q.name(), vh().name());
    throw_precondition_failed("invalid arg 'x-stream-offset' for " + what + " of queue type " +
                              std::string(type_module(q.type())));
  }
}

// rabbit_stream_queue:consume's refusals, in its order. (Exclusive consumers
// are not refused, nor kept exclusive: RabbitMQ 3.10 ignores the flag on a stream.)
stream_consumer_options channel::stream_consume_options(const queue& q, const amqp::basic_consume& m) {
  std::string what = describe("queue", q.name(), vh().name());
  if (consumer_prefetch_ == 0) throw_precondition_failed("consumer prefetch count is not set for '" + what + "'");
  if (m.no_ack)
    throw connection_error(amqp::connection_reply::not_implemented,
                           "automatic acknowledgement not supported by stream queues " + what);
  return parse_stream_consumer_options(m.arguments, wall_clock_ms(), what);
}

void channel::on(const amqp::basic_cancel& m) {
  if (!cancel_reply_consumer(m.consumer_tag)) cancel_consumer(m.consumer_tag);
  if (!m.no_wait) reply(amqp::basic_cancel_ok{m.consumer_tag});
}

// ---- publishing ----

void channel::on(const amqp::basic_publish& m) {
  if (m.immediate) throw connection_error(amqp::connection_reply::not_implemented, "immediate=true");
  conn_.note_publish();
  publishing_.emplace(pending_publish{m, std::make_shared<message>(), 0, false, std::nullopt});
}

void channel::finish_publish() {
  pending_publish p = std::move(*publishing_);
  publishing_.reset();
  p.msg->exchange = std::move(p.method.exchange);
  p.msg->routing_key = std::move(p.method.routing_key);
  require_publish(p.msg->exchange);
  // In a transaction too, a missing exchange or a refused routing key fails now, not at commit.
  exchange& x = publish_target(*p.msg);
  if (p.refused) throw *p.refused;
  storage_context& storage = conn_.owner().storage();
  if (p.msg->persistent() && storage.durable != nullptr) p.msg->store_id = storage.next_message_id++;
  if (tx_mode_) {
    tx_publishes_.emplace_back(std::move(p.method), std::move(p.msg));
    return;
  }
  route_and_enqueue(p.method, std::move(p.msg), x);
}

exchange& channel::publish_target(const message& msg) {
  exchange& x = vh().existing_exchange(msg.exchange);
  if (x.spec().internal)
    throw_access_refused("cannot publish to internal " + describe("exchange", x.name(), vh().name()));
  require_publish_topic(x, msg.routing_key);
  return x;
}

void channel::route_and_enqueue(const amqp::basic_publish& method, message_ref msg, exchange& x) {
  if (x.is_default() && direct_reply_to::is_address(msg->routing_key)) return route_reply(method, msg);
  vh().route(x, *msg, route_scratch_);
  message_stats& stats = conn_.owner().stats();
  stats.add(message_event::publish);
  if (route_scratch_.empty())
    stats.add(method.mandatory ? message_event::return_unroutable : message_event::drop_unroutable);
  if (route_scratch_.empty() && method.mandatory) {
    // The return goes out before the confirm, which flush_confirms sends after this batch.
    reply(amqp::basic_return{static_cast<std::uint16_t>(amqp::channel_reply::no_route), "NO_ROUTE", msg->exchange,
                             msg->routing_key});
    conn_.send_content(id_, msg);
  }
  std::uint64_t confirm_seq = confirms_ ? confirms_->next() : 0;
  if (x.delays() && !route_scratch_.empty())
    if (std::int64_t delay = delayed_delivery::delay_of(*msg); delay > 0)
      return hold_delayed(std::move(msg), confirm_seq, delay);
  enqueue_result result = enqueue_routed(conn_.owner().storage(), msg, route_scratch_, [&](std::uint32_t copies) {
    storage::completion done;
    if (confirms_) {
      // Confirmed at the commit, or once every stored copy has been acked.
      auto pending = std::make_shared<publish_confirm>(alive_.watch(), confirm_seq, copies);
      msg->confirm = pending;
      done = [pending](bool ok) { pending->committed(ok); };
    }
    return done;
  });
  // Flow control: a queue backing up while consumed pauses this publisher.
  for (queue* q : route_scratch_)
    if (q->flow().holding()) conn_.hold_for_queue(*q);
  if (confirms_ && (result.refused || !result.stored)) {
    if (!result.refused) stats.add(message_event::confirm);
    confirms_->complete(confirm_seq, result.refused ? confirm_tracker::outcome::nack : confirm_tracker::outcome::ack);
    confirms_due_ = true;
  }
}

// A persistent delayed message is confirmed once stored, a transient one at once.
void channel::hold_delayed(message_ref msg, std::uint64_t confirm_seq, std::int64_t delay_ms) {
  storage::completion done;
  if (confirms_)
    done = [token = alive_.watch(), confirm_seq](bool ok) {
      if (*token != nullptr) (*token)->confirm(confirm_seq, ok);
    };
  if (!vh().delays().hold(std::move(msg), route_scratch_, delay_ms, std::move(done)) && confirms_) {
    confirms_->complete(confirm_seq, confirm_tracker::outcome::ack);
    confirms_due_ = true;
  }
}

void channel::confirm(std::uint64_t seq, bool stored) {
  if (stored) conn_.owner().stats().add(message_event::confirm);
  confirms_->complete(seq, stored ? confirm_tracker::outcome::ack : confirm_tracker::outcome::nack);
  confirms_due_ = true;
  flush_confirms();
}

void publish_confirm::send(bool ok) {
  if (sent_) return;
  sent_ = true;
  if (*publisher_ != nullptr) (*publisher_)->confirm(seq_, ok);
}

// ---- get ----

void channel::on(const amqp::basic_get& m) {
  std::string name = queue_name_or_last(m.queue);
  require(access::read, "queue", name);
  queue& q = vh().accessible_queue(name, conn_.id());
  if (q.as_stream() != nullptr)
    throw connection_error(amqp::connection_reply::not_implemented,
                           "basic.get not supported by stream queues " + describe("queue", q.name(), vh().name()));
  if (!q.head_on_disk()) {
    answer_get(&q, m.no_ack);
    return;
  }
  // The next message is still on disk: hold this connection's input (so
  // replies stay in order) until the queue has read it back.
  conn_.hold_input();
  q.when_loaded([token = alive_.watch(), id = q.id(), no_ack = m.no_ack] {
    if (*token == nullptr) return;
    channel& ch = **token;
    ch.answer_get(ch.vh().queue_by_id(id), no_ack);
    ch.conn_.release_input();
  });
}

void channel::answer_get(queue* q, bool no_ack) {
  std::optional<queued_message> head = q != nullptr ? q->take() : std::nullopt;
  if (!head) {
    reply(amqp::basic_get_empty{});
    return;
  }
  std::uint64_t tag = next_delivery_tag_++;
  const message& msg = *head->msg;
  count(*q, no_ack ? message_event::get_no_ack : message_event::get, head->redelivered);
  reply(amqp::basic_get_ok{tag, head->redelivered, msg.exchange, msg.routing_key,
                           static_cast<std::uint32_t>(q->ready_count())});
  conn_.send_content(id_, head->msg);
  if (!no_ack) unacked_.add(unacked_delivery{tag, q->id(), std::move(*head), nullptr, false});
  else q->settle(*head);
  q->flush_writes();
}

// ---- acknowledgements ----

void channel::settle(std::uint64_t tag, bool multiple, bool ack, bool requeue, bool by_client) {
  settled_scratch_.clear();
  if (!unacked_.settle(tag, multiple, settled_scratch_))
    throw_precondition_failed("unknown delivery tag " + std::to_string(tag));
  if (ack) conn_.owner().stats().add(message_event::ack, settled_scratch_.size());
  for (unacked_delivery& d : settled_scratch_) {
    if (d.owner) d.owner->settled_one();
    queue* q = vh().queue_by_id(d.queue_id);
    if (q == nullptr) continue;  // deleted with its stored entries
    if (stream* s = q->as_stream()) {
      if (!ack && by_client)
        throw connection_error(amqp::connection_reply::not_implemented,
                               "basic.nack and basic.reject not supported by stream queues " +
                                   describe("queue", q->name(), vh().name()));
      if (ack) s->acked(d.owner, offset_of(d.entry.seq));  // nothing to remove or requeue: credit only
    } else if (ack) {
      q->stats().add(message_event::ack);
      q->settle(d.entry);
    } else if (requeue) {
      q->requeue(std::move(d.entry));
    } else {
      q->reject(std::move(d.entry));
    }
  }
  // One store submission per queue for the whole (multiple) ack; requeued
  // messages are dispatched only now, all back in place, so they go out in order.
  for (unacked_delivery& d : settled_scratch_)
    if (queue* q = vh().queue_by_id(d.queue_id)) {
      if (!ack && requeue) q->dispatch();
      else q->flush_writes();
    }
  settled_scratch_.clear();
  resume_consumers();
}

void channel::apply_settle(const tx_ack& request) {
  std::visit(
      [this](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, amqp::basic_ack>) settle(m.delivery_tag, m.multiple, true, false);
        else if constexpr (std::is_same_v<M, amqp::basic_nack>) settle(m.delivery_tag, m.multiple, false, m.requeue);
        else settle(m.delivery_tag, false, false, m.requeue);
      },
      request);
}

void channel::settle_or_hold(const tx_ack& request) {
  if (tx_mode_) tx_acks_.push_back(request);
  else apply_settle(request);
}

void channel::on(const amqp::basic_ack& m) { settle_or_hold(m); }
void channel::on(const amqp::basic_nack& m) { settle_or_hold(m); }
void channel::on(const amqp::basic_reject& m) { settle_or_hold(m); }

void channel::requeue_all_unacked() {
  if (!unacked_.empty()) settle(0, true, false, true, false);
}

void channel::on(const amqp::basic_recover_async& m) {
  if (!m.requeue) throw connection_error(amqp::connection_reply::not_implemented, "requeue=false");
  requeue_all_unacked();
}

void channel::on(const amqp::basic_recover& m) {
  on(amqp::basic_recover_async{m.requeue});
  reply(amqp::basic_recover_ok{});
}

}  // namespace roost
