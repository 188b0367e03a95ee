// Holding, storing, restoring and releasing delayed messages, and the one
// timer that wakes the vhost when the earliest of them is due.
#include "broker/delay/delayed_delivery.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <limits>

#include "amqp/properties.hpp"
#include "amqp/wire.hpp"
#include "broker/model/vhost.hpp"
#include "broker/publish/enqueue.hpp"
#include "broker/queue/queue.hpp"

namespace roost {

namespace {

constexpr std::int64_t idle = std::numeric_limits<std::int64_t>::max();
// The timer never waits longer than this before looking again, so a wall
// clock that jumps costs at most this much lateness.
constexpr std::int64_t max_wait_ms = 60'000;
// Far beyond any real delay, and far from int64 overflow when added to now.
constexpr std::int64_t max_delay_ms = 100LL * 366 * 24 * 3600 * 1000;

}  // namespace

struct delayed_delivery::timer {
  explicit timer(boost::asio::io_context& io) : wait(io) {}
  boost::asio::steady_timer wait;
  std::int64_t armed_for = idle;  // due time the pending wait is for
  std::uint64_t generation = 0;   // a superseded wait's handler does nothing
};

delayed_delivery::delayed_delivery(vhost& owner, storage_context* storage) : vhost_(owner), storage_(storage) {}

delayed_delivery::~delayed_delivery() = default;

void delayed_delivery::start(boost::asio::io_context& io) {
  timer_ = std::make_unique<timer>(io);
  arm();
}

std::int64_t delayed_delivery::now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t delayed_delivery::delay_of(const message& msg) {
  auto raw = amqp::scan_properties(msg.properties).headers;
  if (!raw) return 0;
  amqp::wire_reader in(*raw);
  amqp::field_table headers = in.table();
  const amqp::field_value* value = headers.find("x-delay");
  std::int64_t delay = 0;
  if (value == nullptr || !value->as_integer(delay)) return 0;
  return std::min(delay, max_delay_ms);
}

bool delayed_delivery::hold(message_ref msg, const std::vector<queue*>& targets, std::int64_t delay_ms,
                            storage::completion stored) {
  std::int64_t due = now_ms() + std::clamp<std::int64_t>(delay_ms, 0, max_delay_ms);
  storage::delayed_record record{msg->store_id, due, {}};
  if (msg->persistent() && msg->store_id != 0)
    for (queue* q : targets)
      if (q->persisted()) record.queue_ids.push_back(q->store_id());
  bool store = !record.queue_ids.empty();
  if (store) {
    storage::message_content content{msg->store_id, msg, msg->exchange, msg->routing_key, msg->properties, msg->body};
    auto done = [token = alive_.watch(), id = msg->store_id, stored = std::move(stored)](bool ok) {
      if (!ok && *token != nullptr) (*token)->not_stored_.insert(id);
      if (stored) stored(ok);
    };
    storage_->durable->submit({storage::insert_message{content}, storage::insert_delayed{std::move(record)}},
                              std::move(done));
  }
  add(due, std::move(msg), targets, store);
  return store;
}

void delayed_delivery::restore(const storage::loaded_delayed& stored, const std::vector<queue*>& targets) {
  auto msg = std::make_shared<message>();
  msg->exchange = stored.exchange;
  msg->routing_key = stored.routing_key;
  msg->properties = stored.properties;
  msg->body = stored.body;
  msg->store_id = stored.record.message_id;
  take_stored_property_fields(*msg, true);  // only persistent messages are held in the store
  // Even with no target left the entry stays: releasing it removes it from the store.
  add(stored.record.due_at_ms, std::move(msg), targets, true);
}

void delayed_delivery::add(std::int64_t due_ms, message_ref msg, const std::vector<queue*>& targets, bool stored) {
  held h{std::move(msg), {}, stored};
  h.queue_ids.reserve(targets.size());
  for (queue* q : targets) h.queue_ids.push_back(q->id());
  schedule_.push(due_ms, std::move(h));
  arm();
}

std::size_t delayed_delivery::release_due(std::int64_t now) {
  due_scratch_.clear();
  std::size_t released = schedule_.pop_due(now, due_scratch_, release_batch);
  if (released == 0) return 0;
  std::vector<storage::operation> writes;
  touched_scratch_.clear();
  for (held& h : due_scratch_) {
    if (h.stored && !not_stored_.empty() && not_stored_.erase(h.msg->store_id) > 0) h.stored = false;
    for (std::uint32_t id : h.queue_ids) {
      queue* q = vhost_.queue_by_id(id);
      if (q == nullptr) continue;
      // A queue full with x-overflow reject-publish refuses it now, as it
      // would a publish (the publisher was confirmed long ago).
      append_published(*q, h.msg, h.stored && q->persisted(), writes);
      touched_scratch_.push_back(q);
    }
    if (h.stored) writes.emplace_back(storage::remove_delayed{h.msg->store_id});
  }
  due_scratch_.clear();
  // Entries are submitted before any dispatch, so an ack can never reach the store ahead of its entry.
  if (!writes.empty()) storage_->durable->submit(std::move(writes), {});
  std::sort(touched_scratch_.begin(), touched_scratch_.end());
  touched_scratch_.erase(std::unique(touched_scratch_.begin(), touched_scratch_.end()), touched_scratch_.end());
  for (queue* q : touched_scratch_) q->dispatch();
  return released;
}

void delayed_delivery::arm() {
  if (!timer_) return;
  std::optional<std::int64_t> due = schedule_.next_due();
  if (!due || *due >= timer_->armed_for) return;
  timer_->armed_for = *due;
  std::int64_t wait = std::clamp<std::int64_t>(*due - now_ms(), 0, max_wait_ms);
  timer_->wait.expires_after(std::chrono::milliseconds(wait));
  timer_->wait.async_wait([this, generation = ++timer_->generation](const boost::system::error_code& ec) {
    if (ec || generation != timer_->generation) return;
    timer_->armed_for = idle;
    on_timer();
  });
}

void delayed_delivery::on_timer() {
  release_due(now_ms());
  arm();  // a full batch leaves due messages behind: the timer fires again at once
}

}  // namespace roost
