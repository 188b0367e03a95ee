// A queue's messages as the browse, delete and move endpoints show them:
// ready ones (queue::browse) and unacked ones (held by channels), each with
// its id (the queue's seq, as a string: it can exceed JavaScript's exact
// integers), state, position, delivery history and an x-death summary next
// to RabbitMQ's get fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin-ui/api_call.hpp"
#include "broker/queue/queue_browse.hpp"

namespace roost::admin {

// A page's size and how its payloads show: limit (1-1,000, default 100),
// encoding (auto or base64), truncate (bytes, default 50,000); 400 otherwise.
struct page_options {
  std::uint64_t limit = 100;
  std::string encoding = "auto";
  std::int64_t truncate = 50000;
};
page_options page_options_from(const query_params& q);

// RabbitMQ's get fields of a message, or for properties that do not decode
// (a damaged stored row) its size and why: still listed, so it can be removed.
nlohmann::json content_or_error_json(const message& msg, const page_options& o);

// An unacknowledged delivery of the queue, with who holds it.
struct unacked_view {
  ready_view view;
  std::string channel;
  std::string consumer_tag;  // empty for basic.get
  std::uint64_t delivery_tag = 0;
};

// Every outstanding delivery of q over all connections, each channel's oldest first.
std::vector<unacked_view> unacked_of(const api_call& c, const queue& q);

nlohmann::json ready_json(const ready_view& v, std::uint64_t position, const page_options& o);
nlohmann::json unacked_json(const unacked_view& u, std::uint64_t position, const page_options& o);

}  // namespace roost::admin
