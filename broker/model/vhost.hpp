// A virtual host: its exchanges, queues and bindings, and the operations on
// them that both the AMQP channel and the admin API use.
//
// Every operation checks and fails the way RabbitMQ does, throwing
// channel_error / connection_error with RabbitMQ's reply codes and texts, so
// the two front ends cannot disagree. Lives on the broker thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/dead_letter/dead_letter.hpp"
#include "broker/delay/delayed_delivery.hpp"
#include "broker/model/exchange.hpp"
#include "broker/policy/policy_set.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

// Who is asking, for exclusive-queue checks: a connection id, or 0 for the
// admin API, which may act on any queue.
using owner_id = std::uint64_t;

// RabbitMQ's per-vhost limits; absent means no limit.
struct vhost_limits {
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> max_queues;
};

// What an operator says about a vhost (RabbitMQ's vhost metadata) and its limits.
struct vhost_settings {
  std::string description;
  std::vector<std::string> tags;
  std::string default_queue_type;
  vhost_limits limits;
};

enum class queue_naming { given, server_generated };

struct queue_declare_result {
  queue* q = nullptr;
  bool created = false;
};

class vhost {
 public:
  // Without stores (services.storage null) nothing is persisted (unit tests).
  explicit vhost(std::string name, queue_services services = {});
  vhost(const vhost&) = delete;
  vhost& operator=(const vhost&) = delete;
  ~vhost();

  const std::string& name() const { return name_; }
  const vhost_settings& settings() const { return settings_; }
  void set_settings(vhost_settings s) { settings_ = std::move(s); }

  exchange* find_exchange(std::string_view name);
  queue* find_queue(std::string_view name);
  queue* queue_by_id(std::uint32_t id);
  const std::map<std::string, std::unique_ptr<exchange>, std::less<>>& exchanges() const { return exchanges_; }
  const std::map<std::string, std::unique_ptr<queue>, std::less<>>& queues() const { return queues_; }

  // The exchange, or 404 NOT_FOUND.
  exchange& existing_exchange(std::string_view name);
  // The queue, or 404; 405 RESOURCE_LOCKED when another connection owns it.
  queue& accessible_queue(std::string_view name, owner_id who);

  exchange& declare_exchange(const exchange_spec& spec, bool passive);
  void delete_exchange(std::string_view name, bool if_unused);

  // Checks RabbitMQ's channel makes before it looks at permissions. The AMQP
  // channel calls them first, so that its refusals come in RabbitMQ's order;
  // the operations above and below make them again where they apply.
  // 503 (a connection error) for an exchange type no router implements.
  static void check_exchange_type(std::string_view type, const amqp::field_table& arguments);
  // 403 for "", the default exchange, which no declare, delete or bind may name.
  static void check_not_default_exchange(std::string_view name);
  // 403 for "" and for every amq.* exchange, which may not be deleted.
  void check_exchange_deletable(std::string_view name) const;
  // 403 for a name starting with amq. ("queue" or "exchange" names the kind in the text).
  static void check_unreserved_name(std::string_view kind, std::string_view name);
  // RabbitMQ's checks of a new queue's arguments and of what its type
  // requires, with its texts ("queue 'q' in vhost '/'" is `what`).
  static void check_new_queue(std::string_view what, const queue_options& options, bool server_named);
  // 406 when a new queue would go over the vhost's max-queues.
  void check_queue_limit(std::string_view queue_name) const;

  // An empty name asks for a server-generated one (amq.gen-...); so does a
  // name the caller generated itself (server_generated: the AMQP channel
  // checks permissions on it first), which the amq. prefix rule lets through.
  queue_declare_result declare_queue(std::string name, const queue_options& options, bool passive, owner_id who,
                                     queue_naming naming = queue_naming::given);
  // Returns the number of ready messages dropped with the queue.
  std::size_t delete_queue(std::string_view name, bool if_unused, bool if_empty, owner_id who);
  std::size_t purge_queue(std::string_view name, owner_id who);

  void bind_queue(std::string_view source, std::string_view queue_name, std::string_view routing_key,
                  const amqp::field_table& arguments, owner_id who);
  void unbind_queue(std::string_view source, std::string_view queue_name, std::string_view routing_key,
                    const amqp::field_table& arguments, owner_id who);
  void bind_exchange(std::string_view source, std::string_view destination, std::string_view routing_key,
                     const amqp::field_table& arguments);
  void unbind_exchange(std::string_view source, std::string_view destination, std::string_view routing_key,
                       const amqp::field_table& arguments);

  // Queues a message published to x reaches: through exchange-to-exchange
  // bindings and alternate exchanges, each queue once. The message's
  // headers are decoded only if a headers router on the way asks for them.
  void route(exchange& x, const message& msg, std::vector<queue*>& out);
  const dead_letter_router& dead_letters() const { return dead_letters_; }

  delayed_delivery& delays() { return delays_; }

  // Removes a consumer from its queue, deleting the queue if it is
  // auto-delete and that was its last consumer.
  void detach_consumer(queue& q, consumer* c);
  // Deletes the exclusive queues of a connection that closed.
  void drop_exclusive_queues(owner_id who);

  // Policies and operator policies (broker/policy/policy_apply.cpp). A
  // change applies at once to the vhost's queues and exchanges and is
  // written to the store. The caller has validated the policy for this vhost.
  const policy_set& policies() const { return policies_; }
  // Adds or replaces; true when there was no policy of that kind and name.
  bool put_policy(policy_ref p);
  // False when there was no such policy.
  bool delete_policy(policy_kind kind, std::string_view name);

  // Recovery: recreate stored definitions without writing them back.
  // Policies first, so that the queues and exchanges restored after them start with theirs.
  void restore_policy(policy_ref p);
  void restore_exchange(const storage::exchange_record& record);
  void restore_queue(const storage::queue_summary& summary);
  void restore_binding(const storage::binding_record& record);

 private:
  exchange& add_exchange(exchange_spec spec);
  // A new queue or exchange picks up the policies matching its name; nothing to do in a vhost without any.
  void apply_policies(queue& q);
  void apply_policies(exchange& x);
  // Policy `name` of `kind` was set (`now`) or removed (null): re-decide for every
  // queue and exchange it applied to or now outranks the one applying.
  void policy_changed(policy_kind kind, std::string_view name, const policy_ref& now);
  queue& add_queue(std::string name, queue_options options);
  void remove_exchange(exchange& x);
  void remove_queue(queue& q);
  // Drops every binding whose destination is dest, auto-deleting sources left unbound.
  void unbind_destination(routing::destination dest);
  void add_binding(exchange& source, routing::destination dest, std::string_view routing_key,
                   const amqp::field_table& arguments);
  void remove_binding(exchange& source, routing::destination dest, std::string_view routing_key,
                      const amqp::field_table& arguments);
  exchange& bindable_exchange(std::string_view name);
  [[noreturn]] void throw_locked(std::string_view queue_name) const;
  // Persistence of definitions (vhost_persistence.cpp); no-ops without a store.
  void persist(storage::operation op);
  bool durable_destination(routing::destination dest);
  void persist_exchange(const exchange& x);
  void persist_queue(const queue& q);
  void persist_binding(const exchange& source, const binding& b, bool add);
  static std::uint64_t destination_key(routing::destination d) {
    return static_cast<std::uint64_t>(d.kind) << 32 | d.id;
  }

  std::string name_;
  vhost_settings settings_;
  queue_services services_;
  dead_letter_router dead_letters_{*this, services_.storage};
  bool restoring_ = false;
  std::uint32_t next_id_ = 1;
  std::map<std::string, std::unique_ptr<exchange>, std::less<>> exchanges_;
  std::map<std::string, std::unique_ptr<queue>, std::less<>> queues_;
  std::unordered_map<std::uint32_t, queue*> queues_by_id_;
  std::unordered_map<std::uint32_t, exchange*> exchanges_by_id_;
  policy_set policies_;
  // destination → ids of the exchanges bound to it, once per binding.
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> sources_of_;

  // Scratch space for route(), reused so routing does not allocate.
  std::vector<routing::destination> route_dests_;
  std::vector<exchange*> route_work_;
  std::vector<std::uint32_t> route_seen_;

  // Last: its timer refers to the queues above.
  delayed_delivery delays_{*this, services_.storage};
};

}  // namespace roost
