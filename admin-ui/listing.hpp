// Query strings and the list endpoints' common options: name filter
// (plain substring or regex), sort by a (dotted) field, pagination, and
// RabbitMQ's `columns` projection.
//
// Without `page` a list is returned as a plain JSON array (sorted and
// filtered); with it, as RabbitMQ's page object {items, page, page_count,
// page_size, filtered_count, item_count, total_count}. Pure code.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace roost::admin {

using query_params = std::map<std::string, std::string, std::less<>>;

// "a=1&b=x%20y" → {a: "1", b: "x y"}; '+' means space here. Throws api_error 400 on a bad escape.
query_params parse_query(std::string_view query);
// A parameter that must be a non-negative integer: absent is nullopt, anything else a 400.
std::optional<std::uint64_t> query_number(const query_params& q, std::string_view key);

struct list_options {
  std::optional<std::size_t> page;  // 1-based
  std::size_t page_size = 100;
  std::string sort;  // a field name, dotted for nested ("message_stats.publish")
  bool sort_reverse = false;
  std::string name;  // filter on the "name" field
  bool use_regex = false;
  std::string columns;  // "name,messages": keep only these (dotted) fields
};

inline constexpr std::size_t max_page_size = 500;

// Reads and validates the list options (400 for a bad page, page_size over 500, bad regex...).
list_options parse_list_options(const query_params& q);

// Applies filter, sort, pagination and columns to a JSON array of objects.
nlohmann::json apply_listing(nlohmann::json items, const list_options& options);

}  // namespace roost::admin
