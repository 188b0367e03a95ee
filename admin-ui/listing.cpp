#include "admin-ui/listing.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "admin-ui/api_error.hpp"
#include "admin-ui/router.hpp"
#include "broker/common/name_pattern.hpp"

namespace roost::admin {

std::optional<std::uint64_t> query_number(const query_params& q, std::string_view key) {
  auto it = q.find(key);
  if (it == q.end()) return std::nullopt;
  std::uint64_t value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    bad_request(std::string(key) + " must be a non-negative integer, got '" + text + "'");
  return value;
}

namespace {

std::size_t parse_positive(const query_params& q, std::string_view key, std::size_t fallback) {
  std::optional<std::uint64_t> value = query_number(q, key);
  if (!value) return fallback;
  if (*value == 0) bad_request(std::string(key) + " must be a positive integer, got '0'");
  return *value;
}

bool parse_flag(const query_params& q, std::string_view key) {
  auto it = q.find(key);
  if (it == q.end()) return false;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  bad_request(std::string(key) + " must be true or false, got '" + it->second + "'");
}

// The value at a dotted path, or null.
const nlohmann::json* at_path(const nlohmann::json& item, std::string_view path) {
  const nlohmann::json* current = &item;
  while (!path.empty()) {
    std::size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    if (!current->is_object()) return nullptr;
    auto it = current->find(key);
    if (it == current->end()) return nullptr;
    current = &*it;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return current;
}

void copy_path(const nlohmann::json& from, nlohmann::json& to, std::string_view path) {
  const nlohmann::json* value = at_path(from, path);
  if (value == nullptr) return;
  nlohmann::json* target = &to;
  while (true) {
    std::size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    if (dot == std::string_view::npos) {
      (*target)[key] = *value;
      return;
    }
    target = &(*target)[key];
    path = path.substr(dot + 1);
  }
}

// Missing values sort first; numbers numerically, strings as strings, anything else by its JSON text.
bool less_value(const nlohmann::json* x, const nlohmann::json* y) {
  if (x == nullptr || y == nullptr) return x == nullptr && y != nullptr;
  if (x->is_number() && y->is_number()) return x->get<double>() < y->get<double>();
  if (x->is_string() && y->is_string()) return x->get_ref<const std::string&>() < y->get_ref<const std::string&>();
  return x->dump() < y->dump();
}

}  // namespace

query_params parse_query(std::string_view query) {
  query_params out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    std::replace(key.begin(), key.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    auto k = percent_decode(key);
    auto v = percent_decode(value);
    if (!k || !v) bad_request("malformed query string");
    out[std::move(*k)] = std::move(*v);
  }
  return out;
}

list_options parse_list_options(const query_params& q) {
  list_options o;
  if (q.contains("page")) o.page = parse_positive(q, "page", 1);
  o.page_size = parse_positive(q, "page_size", o.page_size);
  if (o.page_size > max_page_size)
    bad_request("page_size must be at most " + std::to_string(max_page_size) + ", got " +
                std::to_string(o.page_size));
  if (auto it = q.find("sort"); it != q.end()) o.sort = it->second;
  o.sort_reverse = parse_flag(q, "sort_reverse");
  if (auto it = q.find("name"); it != q.end()) o.name = it->second;
  o.use_regex = parse_flag(q, "use_regex");
  if (auto it = q.find("columns"); it != q.end()) o.columns = it->second;
  return o;
}

nlohmann::json apply_listing(nlohmann::json items, const list_options& o) {
  std::size_t total = items.size();
  if (!o.name.empty()) {
    std::optional<name_pattern> pattern;
    if (o.use_regex) {
      try {
        pattern.emplace(o.name);
      } catch (const pattern_error& e) {
        bad_request("invalid regular expression '" + o.name + "': " + e.what());
      }
    }
    nlohmann::json kept = nlohmann::json::array();
    for (auto& item : items) {
      const nlohmann::json* name = at_path(item, "name");
      if (name == nullptr || !name->is_string()) continue;
      const auto& text = name->get_ref<const std::string&>();
      bool hit = pattern ? pattern->search(text) : text.find(o.name) != std::string::npos;
      if (hit) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (!o.sort.empty()) {
    // Each item's sort value is looked up once, not once per comparison.
    std::vector<std::pair<const nlohmann::json*, std::size_t>> keys;
    keys.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) keys.emplace_back(at_path(items[i], o.sort), i);
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return less_value(a.first, b.first); });
    nlohmann::json sorted = nlohmann::json::array();
    for (const auto& [key, index] : keys) sorted.push_back(std::move(items[index]));
    items = std::move(sorted);
  }
  if (o.sort_reverse) std::reverse(items.begin(), items.end());
  if (!o.columns.empty()) {
    std::vector<std::string> columns;
    std::string_view rest = o.columns;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      if (comma != 0) columns.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    for (auto& item : items) {
      nlohmann::json projected = nlohmann::json::object();
      for (const auto& c : columns) copy_path(item, projected, c);
      item = std::move(projected);
    }
  }
  if (!o.page) return items;
  std::size_t filtered = items.size();
  std::size_t page_count = filtered == 0 ? 0 : (filtered + o.page_size - 1) / o.page_size;
  std::size_t page = *o.page;
  if (page > std::max<std::size_t>(page_count, 1))
    bad_request("page " + std::to_string(page) + " is beyond the last page (" + std::to_string(page_count) + ")");
  std::size_t first = (page - 1) * o.page_size;
  std::size_t last = std::min(filtered, first + o.page_size);
  nlohmann::json slice = nlohmann::json::array();
  for (std::size_t i = first; i < last; ++i) slice.push_back(std::move(items[i]));
  return nlohmann::json{{"items", std::move(slice)},     {"page", page},
                        {"page_count", page_count},     {"page_size", o.page_size},
                        {"filtered_count", filtered},   {"item_count", last - first},
                        {"total_count", total}};
}

}  // namespace roost::admin
