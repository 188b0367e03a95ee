// Turns the broker's message counters into per-second rates: called once a
// second by the HTTP server's sampler. O(queues) per call.
#pragma once

namespace roost {
class broker;
}

namespace roost::admin {

void sample_rates(broker& b, double seconds);

}  // namespace roost::admin
