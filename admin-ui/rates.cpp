#include "admin-ui/rates.hpp"

#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"

namespace roost::admin {

void sample_rates(broker& b, double seconds) {
  b.stats().sample(seconds);
  for (const auto& [name, v] : b.vhosts())
    for (const auto& [queue_name, q] : v->queues()) q->stats().sample(seconds);
}

}  // namespace roost::admin
