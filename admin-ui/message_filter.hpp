// Which messages a browse shows and a delete or move selects: a conjunction
// of conditions on a message's routing, properties, headers, body and
// history, read from a browse's query string or from the "filter" object
// of a delete or move (the same names in both):
//
//   exchange, routing_key                 equal
//   content_type, correlation_id, message_id, type, app_id, user_id, reply_to,
//   content_encoding, expiration, cluster_id      equal (the property is set)
//   header.<name>=<value>                 the header equals value (numbers and
//                                         booleans as written in JSON)
//   has_header=<name>                     the header is present
//   body_contains=<text>                  the body holds these bytes
//   body_json.<a.b>=<value>               the body is JSON and a.b equals value
//   min_delivery_count=<n>                returned unacked at least n times
//   redelivered=true|false
//   death_reason, death_queue             of the most recent x-death entry
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin-ui/listing.hpp"
#include "broker/queue/queue_browse.hpp"

namespace roost::admin {

struct message_filter {
  enum class kind : std::uint8_t {
    exchange, routing_key, property, header, has_header, body_contains, body_json, min_delivery_count,
    redelivered, death_reason, death_queue
  };
  struct condition {
    kind what;
    std::string key;    // the property, header or JSON path; empty otherwise
    std::string value;  // wanted
    std::uint64_t number = 0;  // min_delivery_count
  };
  std::vector<condition> conditions;
  bool empty() const { return conditions.empty(); }
  bool matches(const ready_view& m) const;
};

// The filter named by the query's parameters, except those in `not_filters`
// (a browse's own: offset, limit...). 400 for a name that is no condition or a bad value.
message_filter filter_from_query(const query_params& q, std::initializer_list<std::string_view> not_filters);
// From a JSON object of the same names (values: strings, numbers or booleans).
message_filter filter_from_json(const nlohmann::json& j);

// As a predicate for queue::browse (null when the filter is empty, so a plain browse reads nothing twice).
ready_match as_match(message_filter f);

}  // namespace roost::admin
