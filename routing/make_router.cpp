// The factory from exchange type name to router: the one place that knows
// every built-in type, so the broker needs no per-type code to declare an
// exchange. Names are case-sensitive, as in RabbitMQ.
#include "routing/direct_exchange.hpp"
#include "routing/exchange_router.hpp"
#include "routing/fanout_exchange.hpp"
#include "routing/headers_exchange.hpp"
#include "routing/topic_exchange.hpp"

namespace roost::routing {

std::unique_ptr<exchange_router> make_router(std::string_view type) {
  if (type == "direct") return std::make_unique<direct_exchange>();
  if (type == "fanout") return std::make_unique<fanout_exchange>();
  if (type == "topic") return std::make_unique<topic_exchange>();
  if (type == "headers") return std::make_unique<headers_exchange>();
  return nullptr;
}

}  // namespace roost::routing
