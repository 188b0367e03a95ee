// Declaring and deleting exchanges and queues, with RabbitMQ's checks and
// texts. Bindings and routing are in vhost_routing.cpp.
#include "broker/model/vhost.hpp"

#include <algorithm>

#include "broker/model/equivalence.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/protocol/names.hpp"
#include "broker/queue/queue_arguments.hpp"
#include "broker/stream/stream.hpp"

namespace roost {

namespace {

bool reserved_name(std::string_view name) { return name.starts_with("amq."); }

}  // namespace

void vhost::check_exchange_type(std::string_view type, const amqp::field_table& arguments) {
  routing::exchange_problem problem = routing::check_exchange(type, arguments);
  if (problem.what == routing::exchange_problem::kind::unknown_type)
    throw connection_error(amqp::connection_reply::command_invalid, "unknown exchange type '" + problem.text + "'");
}

void vhost::check_not_default_exchange(std::string_view name) {
  if (name.empty()) throw_access_refused("operation not permitted on the default exchange");
}

void vhost::check_exchange_deletable(std::string_view name) const {
  check_not_default_exchange(name);
  if (reserved_name(name))
    throw_access_refused("deletion of system " + describe("exchange", name, name_) + " not allowed");
}

void vhost::check_unreserved_name(std::string_view kind, std::string_view name) {
  if (reserved_name(name))
    throw_access_refused(std::string(kind) + " name '" + std::string(name) + "' contains reserved prefix 'amq.*'");
}

void vhost::check_queue_limit(std::string_view queue_name) const {
  if (std::int64_t limit = settings_.limits.max_queues.value_or(-1);
      limit >= 0 && static_cast<std::int64_t>(queues_.size()) >= limit)
    throw_precondition_failed("cannot declare queue '" + std::string(queue_name) + "': queue limit in vhost '" + name_ +
                              "' (" + std::to_string(limit) + ") is reached");
}

vhost::vhost(std::string name, queue_services services) : name_(std::move(name)), services_(services) {
  add_exchange(exchange_spec{"", "direct", durability::durable, false, false, {}});
  for (auto [x, type] : {std::pair{"amq.direct", "direct"}, std::pair{"amq.fanout", "fanout"},
                         std::pair{"amq.topic", "topic"}, std::pair{"amq.headers", "headers"},
                         std::pair{"amq.match", "headers"}})
    add_exchange(exchange_spec{x, type, durability::durable, false, false, {}});
}

vhost::~vhost() = default;

exchange* vhost::find_exchange(std::string_view name) {
  auto it = exchanges_.find(name);
  return it == exchanges_.end() ? nullptr : it->second.get();
}

queue* vhost::find_queue(std::string_view name) {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second.get();
}

queue* vhost::queue_by_id(std::uint32_t id) {
  auto it = queues_by_id_.find(id);
  return it == queues_by_id_.end() ? nullptr : it->second;
}

exchange& vhost::existing_exchange(std::string_view name) {
  if (exchange* x = find_exchange(name)) return *x;
  throw_not_found("exchange", name, name_);
}

queue& vhost::accessible_queue(std::string_view name, owner_id who) {
  queue* q = find_queue(name);
  if (q == nullptr) throw_not_found("queue", name, name_);
  if (q->options().exclusive && who != 0 && q->options().owner != who) throw_locked(name);
  return *q;
}

void vhost::throw_locked(std::string_view queue_name) const {
  throw channel_error(amqp::channel_reply::resource_locked,
                      "cannot obtain exclusive access to locked " + describe("queue", queue_name, name_) +
                          ". It could be originally declared on another connection or the exclusive property "
                          "value does not match that of the original declaration.");
}

exchange& vhost::add_exchange(exchange_spec spec) {
  auto router = routing::make_router(spec.type, spec.arguments);
  std::uint32_t id = next_id_++;
  std::string key = spec.name;
  auto x = std::make_unique<exchange>(id, std::move(spec), std::move(router));
  exchange& ref = *x;
  exchanges_by_id_[id] = &ref;
  exchanges_.emplace(std::move(key), std::move(x));
  apply_policies(ref);
  return ref;
}

exchange& vhost::declare_exchange(const exchange_spec& spec, bool passive) {
  check_not_default_exchange(spec.name);  // RabbitMQ refuses even a passive declare of ""
  if (passive) return existing_exchange(spec.name);
  routing::exchange_problem problem = routing::check_exchange(spec.type, spec.arguments);
  if (problem.what == routing::exchange_problem::kind::unknown_type)
    throw connection_error(amqp::connection_reply::command_invalid, "unknown exchange type '" + problem.text + "'");
  if (problem.what == routing::exchange_problem::kind::invalid_arguments) throw_precondition_failed(problem.text);
  exchange* x = find_exchange(spec.name);
  if (x == nullptr) {
    check_unreserved_name("exchange", spec.name);
    exchange& created = add_exchange(spec);
    persist_exchange(created);
    return created;
  }
  std::string what = describe("exchange", spec.name, name_);
  const exchange_spec& current = x->spec();
  check_text_equivalence(what, "type", current.type, spec.type);
  check_flag_equivalence(what, "durable", current.durable == durability::durable,
                         spec.durable == durability::durable);
  check_flag_equivalence(what, "auto_delete", current.auto_delete, spec.auto_delete);
  check_flag_equivalence(what, "internal", current.internal, spec.internal);
  check_exchange_arguments(what, current.arguments, spec.arguments);
  return *x;
}

void vhost::delete_exchange(std::string_view name, bool if_unused) {
  check_exchange_deletable(name);
  exchange* x = find_exchange(name);
  if (x == nullptr) return;  // RabbitMQ: deleting a missing exchange succeeds
  bool has_destination_bindings =
      sources_of_.contains(destination_key({routing::destination_kind::exchange, x->id()}));
  if (if_unused && (!x->bindings().empty() || has_destination_bindings))
    throw_precondition_failed(describe("exchange", name, name_) + " in use");
  remove_exchange(*x);
}

void vhost::remove_exchange(exchange& x) {
  unbind_destination(routing::destination{routing::destination_kind::exchange, x.id()});
  for (const binding& b : x.bindings()) {
    auto it = sources_of_.find(destination_key(b.destination));
    if (it == sources_of_.end()) continue;
    auto& ids = it->second;
    ids.erase(std::find(ids.begin(), ids.end(), x.id()));
    if (ids.empty()) sources_of_.erase(it);
  }
  if (x.spec().durable == durability::durable) persist(storage::delete_exchange{name_, x.name()});
  exchanges_by_id_.erase(x.id());
  exchanges_.erase(exchanges_.find(x.name()));
}

queue_declare_result vhost::declare_queue(std::string name, const queue_options& options, bool passive,
                                          owner_id who, queue_naming naming) {
  if (passive) {
    queue& q = accessible_queue(name, who);
    q.touch();
    return {&q, false};
  }
  bool server_named = name.empty() || naming == queue_naming::server_generated;
  if (name.empty()) {
    name = generate_name("amq.gen-");
  } else if (naming == queue_naming::given && find_queue(name) == nullptr) {
    check_unreserved_name("queue", name);
  }
  if (queue* q = find_queue(name)) {
    accessible_queue(name, who);
    std::string what = describe("queue", name, name_);
    if (q->options().exclusive != options.exclusive) throw_locked(name);
    // RabbitMQ does not compare durable for exclusive queues.
    if (!q->options().exclusive)
      check_flag_equivalence(what, "durable", q->durable(), options.durable == durability::durable);
    check_flag_equivalence(what, "auto_delete", q->options().auto_delete, options.auto_delete);
    check_queue_arguments(what, q->options().arguments, options.arguments, q->as_stream() != nullptr);
    q->touch();
    return {q, false};
  }
  // As RabbitMQ: a redeclare is only compared (above); a new queue's
  // arguments are checked, then what its type requires.
  check_new_queue(describe("queue", name, name_), options, server_named);
  check_queue_limit(name);
  queue_options opts = options;
  opts.owner = options.exclusive ? who : 0;
  queue& created = add_queue(std::move(name), std::move(opts));
  persist_queue(created);
  return {&created, true};
}

void vhost::check_new_queue(std::string_view what, const queue_options& options, bool server_named) {
  queue_type type = parse_queue_type(options.arguments, what);
  if (type == queue_type::stream) parse_stream_arguments(options.arguments, what);
  else parse_queue_arguments(options.arguments, what);
  check_new_queue_of_type(type, options.arguments, server_named, options.durable == durability::durable,
                          options.exclusive, options.auto_delete, what);
}

queue& vhost::add_queue(std::string name, queue_options options) {
  std::uint32_t id = next_id_++;
  auto q = std::make_unique<queue>(id, name, std::move(options), services_);
  queue& ref = *q;
  ref.set_dead_letter_router(&dead_letters_);
  ref.set_unused_hook([this](queue& unused) { remove_queue(unused); });
  queues_by_id_[id] = &ref;
  queues_.emplace(std::move(name), std::move(q));
  apply_policies(ref);
  return ref;
}

std::size_t vhost::delete_queue(std::string_view name, bool if_unused, bool if_empty, owner_id who) {
  queue* q = find_queue(name);
  if (q == nullptr) return 0;  // RabbitMQ: deleting a missing queue succeeds
  accessible_queue(name, who);
  // RabbitMQ deletes a stream whatever if-unused and if-empty say, and counts none of its messages.
  if (q->as_stream() != nullptr) {
    remove_queue(*q);
    return 0;
  }
  if (if_unused && q->consumer_count() > 0) throw_precondition_failed(describe("queue", name, name_) + " in use");
  if (if_empty && q->ready_count() > 0) throw_precondition_failed(describe("queue", name, name_) + " not empty");
  std::size_t count = q->ready_count();
  remove_queue(*q);
  return count;
}

std::size_t vhost::purge_queue(std::string_view name, owner_id who) {
  queue& q = accessible_queue(name, who);
  if (q.as_stream() != nullptr)
    throw connection_error(amqp::connection_reply::not_implemented,
                           "queue.purge not supported by stream queues " + describe("queue", q.name(), name_));
  return q.purge();
}

void vhost::remove_queue(queue& q) {
  q.detach_consumers();
  q.erase_from_store();
  unbind_destination(routing::destination{routing::destination_kind::queue, q.id()});
  queues_by_id_.erase(q.id());
  queues_.erase(queues_.find(q.name()));
}

void vhost::detach_consumer(queue& q, consumer* c) {
  if (!q.remove_consumer(c)) return;
  if (q.options().auto_delete && q.unused_after_consumers()) remove_queue(q);
}

void vhost::drop_exclusive_queues(owner_id who) {
  std::vector<queue*> doomed;
  for (auto& [name, q] : queues_)
    if (q->options().exclusive && q->options().owner == who) doomed.push_back(q.get());
  for (queue* q : doomed) remove_queue(*q);
}

}  // namespace roost
