// Naming and declaring the run's exchange, queues and bindings.
#include "perf/topology.hpp"

#include <unistd.h>

#include <chrono>

namespace roost::perf {

namespace {

// Unique across concurrent runs (pid) and successive ones (wall clock).
std::string fresh_queue_name() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  return "roost-perf-" + std::to_string(::getpid()) + "-" + std::to_string(ms.count() % 100'000'000);
}

}  // namespace

topology plan_topology(const options& opts) {
  topology t;
  t.exchange = opts.exchange;
  t.fresh_names = !opts.queue.has_value();
  std::string base = opts.queue.value_or(fresh_queue_name());
  for (int i = 0; i < opts.queues; ++i) {
    t.queues.push_back(opts.queues == 1 ? base : base + "-" + std::to_string(i + 1));
  }
  // The default exchange routes by queue name; any other exchange gets one
  // key for every binding, so each queue receives every message.
  t.routing_key = opts.routing_key.value_or(t.exchange.empty() ? t.queues.front() : "roost-perf");
  return t;
}

void declare_topology(client_connection& setup, const options& opts, const topology& t) {
  // amq.* exchanges are predeclared, and redeclaring them is refused (403).
  if (!t.exchange.empty() && !t.exchange.starts_with("amq.")) {
    amqp::exchange_declare x;
    x.exchange = t.exchange;
    x.type = opts.exchange_type;
    x.durable = opts.durable;
    setup.call<amqp::exchange_declare_ok>(x);
  }
  for (const std::string& name : t.queues) {
    amqp::queue_declare q;
    q.queue = name;
    q.durable = opts.durable;
    // quorum for scripts/bench's cluster rows: RabbitMQ's replicated queue type.
    if (!opts.queue_type.empty()) q.arguments.set("x-queue-type", opts.queue_type);
    setup.call<amqp::queue_declare_ok>(q);
    if (t.exchange.empty()) continue;
    amqp::queue_bind b;
    b.queue = name;
    b.exchange = t.exchange;
    b.routing_key = t.routing_key;
    setup.call<amqp::queue_bind_ok>(b);
  }
}

void delete_queues(client_connection& setup, const topology& t) {
  for (const std::string& name : t.queues) {
    amqp::queue_delete d;
    d.queue = name;
    setup.call<amqp::queue_delete_ok>(d);
  }
}

}  // namespace roost::perf
