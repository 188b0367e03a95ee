// The exchange, queues and bindings a run publishes through, declared once
// from a setup connection before any worker starts.
//
// Declaring up front (rather than in each worker) means consumers never race
// producers to a queue that does not exist yet, and a refused declare fails
// the run before any load is generated.
#pragma once

#include <string>
#include <vector>

#include "perf/client_connection.hpp"
#include "perf/options.hpp"

namespace roost::perf {

struct topology {
  std::string exchange;            // "" = the default exchange
  std::string routing_key;         // what producers publish with, and the binding key
  std::vector<std::string> queues; // one consumer group each
  bool fresh_names = false;        // names made up for this run: deleted afterwards
};

topology plan_topology(const options& opts);
void declare_topology(client_connection& setup, const options& opts, const topology& t);
void delete_queues(client_connection& setup, const topology& t);

}  // namespace roost::perf
