// One AMQP channel: publishes assembled from method + header + body frames,
// consumers, unacknowledged deliveries, qos, publisher confirms and
// transactions.
//
// Owned by its connection and lives on the broker thread. Handlers throw
// channel_error / connection_error; the connection catches them (one place)
// and closes the channel or itself. A channel that ends for any reason calls
// release() first, which puts its unacked messages back and cancels its
// consumers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "amqp/methods.hpp"
#include "amqp/wire.hpp"
#include "broker/access/permissions.hpp"
#include "broker/common/lifetime_token.hpp"
#include "broker/model/message.hpp"
#include "broker/protocol/confirm_tracker.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/unacked_deliveries.hpp"
#include "broker/queue/queue.hpp"
#include "broker/stream/stream_arguments.hpp"

namespace roost {

class channel;
class exchange;
class vhost;
struct exchange_spec;
enum class queue_naming;

class channel_consumer final : public consumer {
 public:
  channel_consumer(channel& owner, queue& q, std::string tag, bool no_ack, bool exclusive, std::uint16_t prefetch,
                   amqp::field_table arguments)
      : channel_(owner), queue_(&q), tag_(std::move(tag)), no_ack_(no_ack), exclusive_(exclusive),
        prefetch_(prefetch), arguments_(std::move(arguments)) {}

  bool can_take() const override;
  void deliver(queue& from, queued_message&& m) override;
  void queue_deleted(queue& q) override;
  bool exclusive() const override { return exclusive_; }

  const std::string& tag() const { return tag_; }
  queue* source() const { return queue_; }
  bool no_ack() const { return no_ack_; }
  std::uint16_t prefetch() const { return prefetch_; }
  // basic.consume's arguments, for the admin API.
  const amqp::field_table& arguments() const { return arguments_; }
  const channel& owner() const { return channel_; }
  void settled_one() { --unacked_; }

 private:
  channel& channel_;
  queue* queue_;
  std::string tag_;
  bool no_ack_;
  bool exclusive_;
  std::uint16_t prefetch_;
  amqp::field_table arguments_;
  std::uint32_t unacked_ = 0;
};

class channel {
 public:
  channel(connection& conn, std::uint16_t id);
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;
  ~channel();

  std::uint16_t id() const { return id_; }
  connection& conn() { return conn_; }
  const connection& conn() const { return conn_; }
  // Read-only views for the admin API.
  const std::map<std::string, std::unique_ptr<channel_consumer>, std::less<>>& consumers() const { return consumers_; }
  const unacked_deliveries& unacked() const { return unacked_; }
  std::uint16_t consumer_prefetch() const { return consumer_prefetch_; }
  std::uint16_t global_prefetch() const { return global_prefetch_; }
  bool confirm_mode() const { return confirms_.has_value(); }
  bool transactional() const { return tx_mode_; }

  // One method frame (payload after class and method ids is in `in`).
  void handle_method(std::uint32_t method_key, amqp::wire_reader& in);
  void handle_header(amqp::wire_reader& in);
  void handle_body(std::string_view bytes);
  // Returns every unacked message to its queue and cancels every consumer.
  void release();
  void cancel_all_consumers();
  // Sends confirms that became due while handling a batch of frames.
  void flush_confirms();
  // Lets queues deliver again after flow or socket back-pressure eased.
  void resume_consumers();
  bool flow_active() const { return flow_active_; }
  bool over_global_prefetch() const { return global_prefetch_ != 0 && unacked_.size() >= global_prefetch_; }

  // A confirm-mode publish is settled (publish_confirm decides when): ack or nack it.
  void confirm(std::uint64_t seq, bool stored);

  // Called by channel_consumer.
  void deliver(channel_consumer& c, queue& from, queued_message&& m, bool track);
  void consumer_lost_queue(channel_consumer& c);

  // Method handlers, found by dispatch_table through overload resolution.
  void on(const amqp::channel_flow& m);
  void on(const amqp::channel_flow_ok& m);
  void on(const amqp::access_request& m);
  void on(const amqp::exchange_declare& m);
  void on(const amqp::exchange_delete& m);
  void on(const amqp::exchange_bind& m);
  void on(const amqp::exchange_unbind& m);
  void on(const amqp::queue_declare& m);
  void on(const amqp::queue_bind& m);
  void on(const amqp::queue_unbind& m);
  void on(const amqp::queue_purge& m);
  void on(const amqp::queue_delete& m);
  void on(const amqp::basic_qos& m);
  void on(const amqp::basic_consume& m);
  void on(const amqp::basic_cancel& m);
  void on(const amqp::basic_publish& m);
  void on(const amqp::basic_get& m);
  void on(const amqp::basic_ack& m);
  void on(const amqp::basic_reject& m);
  void on(const amqp::basic_nack& m);
  void on(const amqp::basic_recover_async& m);
  void on(const amqp::basic_recover& m);
  void on(const amqp::confirm_select& m);
  void on(const amqp::tx_select& m);
  void on(const amqp::tx_commit& m);
  void on(const amqp::tx_rollback& m);

 private:
  // A publish waiting for its content header and body frames.
  struct pending_publish {
    amqp::basic_publish method;
    std::shared_ptr<message> msg;
    std::uint64_t body_size = 0;
    bool header_seen = false;
    // The content's first failed check (user_id, expiration, reply_to), raised
    // once the exchange's permissions have been checked.
    std::optional<channel_error> refused;
  };
  using tx_ack = std::variant<amqp::basic_ack, amqp::basic_nack, amqp::basic_reject>;

  vhost& vh();
  template <class M>
  void reply(const M& m) {
    conn_.send(id_, m);
  }
  // "" means the queue last declared on this channel, as in RabbitMQ.
  std::string queue_name_or_last(const std::string& name) const;
  void finish_publish();
  // get-ok with the queue's head, or get-empty (also when the queue is gone).
  void answer_get(queue* q, bool no_ack);
  // The exchange a publish goes to: it exists, is not internal, and the
  // routing key passes the user's topic permissions there.
  exchange& publish_target(const message& msg);
  void route_and_enqueue(const amqp::basic_publish& method, message_ref msg, exchange& x);
  // A delivery or get from q, for the message rates.
  void count(queue& q, message_event e, bool redelivered);
  void hold_delayed(message_ref msg, std::uint64_t confirm_seq, std::int64_t delay_ms);

  // Access control (channel_access.cpp): 403 ACCESS_REFUSED with RabbitMQ's
  // text unless the connection's user may do this in its vhost.
  void require(access a, std::string_view kind, std::string_view name);
  // Read or write on a routing key of a topic exchange, where the user has topic permissions.
  void require_topic(access a, const exchange& x, std::string_view routing_key);
  // basic.publish: write on the exchange, the answer kept until permissions change.
  void require_publish(const std::string& exchange_name);
  // basic.publish to a topic exchange: topic write on the routing key.
  void require_publish_topic(const exchange& x, std::string_view routing_key);
  // queue.bind / exchange.bind and their unbinds: write on the destination,
  // neither end the default exchange, read on the source, and topic read on
  // the routing key.
  void require_binding(const std::string& source, std::string_view kind, const std::string& destination,
                       std::string_view routing_key);
  // exchange.declare (not passive): the type, not the default exchange,
  // configure; for a new exchange also its name and, with an alternate
  // exchange, read on it and write on that one.
  void require_exchange_declare(const exchange_spec& spec);
  // queue.declare (not passive): the amq. prefix (given names), configure; for
  // a new queue also the vhost's queue limit and, with a dead-letter
  // exchange, read on the queue and write on that exchange.
  void require_queue_declare(const std::string& name, queue_naming naming, const amqp::field_table& arguments);
  // exchange.delete: neither the default nor an amq.* exchange, then configure.
  void require_exchange_delete(const std::string& name);

  // Direct Reply-to (channel_reply_to.cpp).
  void consume_replies(const amqp::basic_consume& m);
  // True when tag named the reply consumer, which is now cancelled.
  bool cancel_reply_consumer(const std::string& tag);
  // reply_to = amq.rabbitmq.reply-to becomes this channel's reply address.
  void stamp_reply_address(message& msg);
  // A publish to the default exchange addressed to a reply consumer.
  void route_reply(const amqp::basic_publish& method, const message_ref& msg);
  void deliver_reply(const message_ref& msg);
  void answer_reply_queue_declare(const amqp::queue_declare& m);

  // basic.consume on a queue: not in exclusive use; no stream arguments.
  void check_queue_consume(const queue& q, const amqp::basic_consume& m);
  // basic.consume on a stream: a prefetch and manual acks (406 / 540 as
  // RabbitMQ), and where to start reading.
  stream_consumer_options stream_consume_options(const queue& q, const amqp::basic_consume& m);
  // by_client: a basic.ack / nack / reject (a nack or reject of a stream's
  // delivery is 540, as RabbitMQ); otherwise the channel is giving its
  // deliveries back (closing, recover).
  void settle(std::uint64_t tag, bool multiple, bool ack, bool requeue, bool by_client = true);
  void apply_settle(const tx_ack& request);
  // In a transaction acks wait for tx.commit; otherwise they apply now.
  void settle_or_hold(const tx_ack& request);
  void requeue_all_unacked();
  void cancel_consumer(const std::string& tag);

  connection& conn_;
  std::uint16_t id_;
  std::optional<pending_publish> publishing_;
  std::map<std::string, std::unique_ptr<channel_consumer>, std::less<>> consumers_;
  unacked_deliveries unacked_;
  std::vector<unacked_delivery> settled_scratch_;
  std::vector<queue*> route_scratch_;
  std::uint64_t next_delivery_tag_ = 1;
  std::uint16_t consumer_prefetch_ = 0;  // basic.qos global=false: applies to later consumers
  std::uint16_t global_prefetch_ = 0;    // basic.qos global=true: shared by the channel
  bool flow_active_ = true;
  std::string last_queue_;
  std::optional<confirm_tracker> confirms_;
  bool confirms_due_ = false;
  bool tx_mode_ = false;
  std::vector<std::pair<amqp::basic_publish, message_ref>> tx_publishes_;
  std::vector<tx_ack> tx_acks_;
  struct reply_consumer {
    std::string tag;
    std::string address;
  };
  std::optional<reply_consumer> reply_consumer_;
  lifetime_token<channel> alive_{this};
  // The exchange this channel last published to with permission, and the
  // access_control version that answer holds for (0: none yet).
  struct publish_permission {
    std::uint64_t version = 0;
    std::string exchange;
    const topic_rules* topic = nullptr;  // the user's topic permissions there, if any
  };
  publish_permission publish_allowed_;
};

}  // namespace roost
