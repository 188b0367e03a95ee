// x-death as RabbitMQ 3.10's rabbit_dead_letter writes it, checked against a
// real node: on a message's first death the entry's fields are in the order
// count, reason, queue, time, exchange, routing-keys[, original-expiration];
// on later deaths the new or updated entry is sorted by key (RabbitMQ sorts
// it). count is a long, time a timestamp, routing-keys an array of longstr.
#include "broker/dead_letter/x_death.hpp"

#include <algorithm>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"

namespace roost {

namespace {

const std::string* string_field(const amqp::field_table& t, std::string_view key) {
  const amqp::field_value* v = t.find(key);
  return v == nullptr ? nullptr : v->get_if<std::string>();
}

// Appends the longstr keys of a CC or BCC header.
void append_keys(const amqp::field_table& headers, std::string_view name, std::vector<std::string>& keys) {
  if (const amqp::field_value* list = headers.find(name))
    if (const amqp::field_array* a = list->get_if<amqp::field_array>())
      for (const amqp::field_value& k : *a)
        if (const std::string* s = k.get_if<std::string>()) keys.push_back(*s);
}

amqp::field_table new_entry(const message& m, const death_event& e, const std::vector<std::string>& keys,
                            const std::optional<std::string>& expiration) {
  amqp::field_array routing_keys(keys.begin(), keys.end());
  amqp::field_table entry;
  entry.entries = {{"count", std::int64_t{1}},
                   {"reason", std::string(reason_name(e.reason))},
                   {"queue", std::string(e.queue)},
                   {"time", amqp::timestamp_value{e.time_seconds}},
                   {"exchange", m.exchange},
                   {"routing-keys", std::move(routing_keys)}};
  if (expiration) entry.entries.push_back({"original-expiration", *expiration});
  return entry;
}

void sort_by_key(amqp::field_table& t) {
  std::stable_sort(t.entries.begin(), t.entries.end(),
                   [](const amqp::field_entry& a, const amqp::field_entry& b) { return a.name < b.name; });
}

void increment_count(amqp::field_table& entry) {
  amqp::field_value* count = entry.find("count");
  std::int64_t n = 0;
  if (count == nullptr || !count->as_integer(n)) {
    entry.set("count", std::int64_t{1});
  } else if (count->get_if<std::int32_t>() != nullptr) {
    *count = static_cast<std::int32_t>(n + 1);  // keeps the type an older writer used
  } else {
    *count = n + 1;
  }
}

bool is_entry_for(const amqp::field_value& v, std::string_view queue, std::string_view reason) {
  const amqp::field_table* t = v.get_if<amqp::field_table>();
  if (t == nullptr) return false;
  const std::string* q = string_field(*t, "queue");
  const std::string* r = string_field(*t, "reason");
  return q != nullptr && r != nullptr && *q == queue && *r == reason;
}

void update_x_death(amqp::field_table& headers, const message& m, const death_event& e,
                    const std::vector<std::string>& keys, const std::optional<std::string>& expiration) {
  std::string queue(e.queue);
  std::string reason(reason_name(e.reason));
  amqp::field_value* existing = headers.find("x-death");
  amqp::field_array* deaths = existing == nullptr ? nullptr : std::get_if<amqp::field_array>(&existing->value);
  if (deaths == nullptr) {
    // First death (or an x-death of the wrong type, which RabbitMQ also replaces).
    headers.set("x-death", amqp::field_array{new_entry(m, e, keys, expiration)});
    headers.set("x-first-death-exchange", m.exchange);
    headers.set("x-first-death-queue", queue);
    headers.set("x-first-death-reason", reason);
  } else {
    auto match = std::find_if(deaths->begin(), deaths->end(),
                              [&](const amqp::field_value& v) { return is_entry_for(v, queue, reason); });
    amqp::field_table entry;
    if (match != deaths->end()) {
      entry = std::move(std::get<amqp::field_table>(match->value));
      deaths->erase(match);
      increment_count(entry);
    } else {
      entry = new_entry(m, e, keys, expiration);
    }
    sort_by_key(entry);
    deaths->insert(deaths->begin(), std::move(entry));
  }
  headers.set("x-last-death-exchange", m.exchange);
  headers.set("x-last-death-queue", queue);
  headers.set("x-last-death-reason", reason);
}

}  // namespace

std::string_view reason_name(death_reason r) {
  switch (r) {
    case death_reason::rejected: return "rejected";
    case death_reason::expired: return "expired";
    case death_reason::maxlen: return "maxlen";
    case death_reason::delivery_limit: return "delivery_limit";
  }
  return "rejected";
}

dead_lettered make_dead_lettered(const message& original, const death_event& e) {
  amqp::basic_properties props = amqp::decode_properties(original.properties);
  amqp::field_table headers = props.headers ? std::move(*props.headers) : amqp::field_table{};
  // x-death records the routing key and CC keys; routing also uses BCC
  // keys, a header RabbitMQ never lets consumers see.
  std::vector<std::string> keys{original.routing_key};
  append_keys(headers, "CC", keys);
  update_x_death(headers, original, e, keys, props.expiration);
  dead_lettered out;
  if (e.dead_letter_routing_key) {
    headers.erase("CC");  // the CC keys are replaced by the dead-letter key, as in RabbitMQ
    out.routing_keys = {std::string(*e.dead_letter_routing_key)};
  } else {
    out.routing_keys = std::move(keys);
    append_keys(headers, "BCC", out.routing_keys);
  }
  headers.erase("BCC");
  props.expiration.reset();
  props.headers = headers;
  out.headers = std::move(headers);

  auto msg = std::make_shared<message>();
  msg->exchange = std::string(e.dead_letter_exchange);
  msg->routing_key = out.routing_keys.front();
  amqp::wire_writer w(msg->properties);
  amqp::encode_properties(w, props);
  msg->body = original.body;
  msg->delivery_mode = original.delivery_mode;
  msg->priority = original.priority;
  out.msg = std::move(msg);
  return out;
}

bool dead_letter_cycle(const amqp::field_table& headers, std::string_view queue) {
  const amqp::field_value* v = headers.find("x-death");
  const amqp::field_array* deaths = v == nullptr ? nullptr : v->get_if<amqp::field_array>();
  if (deaths == nullptr) return false;
  // Newest first: every death up to and including the last one in `queue`
  // must be automatic (not a rejection) for the cycle to count.
  for (const amqp::field_value& d : *deaths) {
    const amqp::field_table* t = d.get_if<amqp::field_table>();
    if (t == nullptr) return false;  // something a client put there: not fully automatic
    const std::string* reason = string_field(*t, "reason");
    if (reason != nullptr && *reason == "rejected") return false;
    const std::string* q = string_field(*t, "queue");
    if (q != nullptr && *q == queue) return true;
  }
  return false;
}

std::optional<last_death> last_death_of(const amqp::field_table& headers) {
  const amqp::field_value* v = headers.find("x-death");
  const amqp::field_array* deaths = v == nullptr ? nullptr : v->get_if<amqp::field_array>();
  if (deaths == nullptr || deaths->empty()) return std::nullopt;
  const amqp::field_table* newest = deaths->front().get_if<amqp::field_table>();
  if (newest == nullptr) return std::nullopt;
  last_death d;
  auto text = [&](const char* name) {
    const std::string* s = string_field(*newest, name);
    return s == nullptr ? std::string() : *s;
  };
  d.queue = text("queue");
  d.reason = text("reason");
  d.exchange = text("exchange");
  if (const amqp::field_value* keys = newest->find("routing-keys"))
    if (const amqp::field_array* list = keys->get_if<amqp::field_array>())
      for (const amqp::field_value& k : *list)
        if (const std::string* key = k.as_string()) d.routing_keys.push_back(*key);
  return d;
}

std::optional<last_death> last_death_of(const message& m) {
  try {
    amqp::basic_properties p = amqp::decode_properties(m.properties);
    if (p.headers) return last_death_of(*p.headers);
  } catch (const amqp::decode_error&) {
    // unreadable properties (a damaged stored row): no death to read
  }
  return std::nullopt;
}

message_ref with_delivery_count(const message& m, std::uint32_t count) {
  auto copy = std::make_shared<message>(m);
  copy->properties = amqp::with_header(m.properties, "x-delivery-count", static_cast<std::int64_t>(count));
  return copy;
}

}  // namespace roost
