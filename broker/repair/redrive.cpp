#include "broker/repair/redrive.hpp"

#include <algorithm>

#include "broker/dead_letter/x_death.hpp"
#include "broker/expiry/deadline_scheduler.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/exchange.hpp"
#include "broker/model/vhost.hpp"

namespace roost {

namespace {

constexpr std::uint64_t unpaced_page = 1000;
constexpr std::uint64_t pages_a_second = 10;  // a paced run's steps

}  // namespace

std::string_view state_name(redrive_state s) {
  switch (s) {
    case redrive_state::running: return "running";
    case redrive_state::finished: return "finished";
    case redrive_state::cancelled: return "cancelled";
    case redrive_state::stopped: return "stopped";
  }
  return "stopped";
}

redrive_run::redrive_run(broker& b, std::string vhost, const queue& source, redrive_request request)
    : broker_(b), vhost_(std::move(vhost)), queue_(source.name()), queue_id_(source.id()),
      request_(std::move(request)) {
  progress_.started_at_ms = wall_clock_ms();
}

queue* redrive_run::source() const {
  vhost* v = broker_.find_vhost(vhost_);
  queue* q = v == nullptr ? nullptr : v->find_queue(queue_);
  return q != nullptr && q->id() == queue_id_ ? q : nullptr;
}

void redrive_run::start() { step(); }

void redrive_run::cancel() {
  if (progress_.state == redrive_state::running) finish(redrive_state::cancelled);
}

void redrive_run::finish(redrive_state s) {
  progress_.state = s;
  progress_.finished_at_ms = wall_clock_ms();
}

std::optional<move_destination> redrive_run::destination_of(const ready_view& m) const {
  vhost* v = broker_.find_vhost(vhost_);
  if (v == nullptr) return std::nullopt;
  move_destination to;
  if (request_.chosen_target) {
    if (!request_.to_queue.empty()) to.to_queue = v->find_queue(request_.to_queue);
    else to.to_exchange = v->find_exchange(request_.to_exchange);
    to.routing_keys = {request_.to_routing_key};
    if (to.to_queue == nullptr && to.to_exchange == nullptr) return std::nullopt;  // deleted since
    return to;
  }
  std::optional<last_death> death = last_death_of(*m.msg);
  if (!death || death->routing_keys.empty()) return std::nullopt;
  if (request_.may_write && !request_.may_write(death->exchange)) return std::nullopt;
  to.to_exchange = v->find_exchange(death->exchange);
  if (to.to_exchange == nullptr) return std::nullopt;
  to.routing_keys = std::move(death->routing_keys);
  return to;
}

void redrive_run::step() {
  if (progress_.state != redrive_state::running) return;
  queue* q = source();
  if (q == nullptr) return finish(redrive_state::stopped);
  std::uint64_t left = request_.max - progress_.counts.moved;
  std::uint64_t page = request_.max_rate == 0 ? unpaced_page : std::max<std::uint64_t>(1, request_.max_rate / pages_a_second);
  browse_request read;
  read.from_position = from_position_;
  read.limit = static_cast<std::size_t>(std::min(page, left));
  read.matches = [reason = request_.reason, origin = request_.origin_queue](const ready_view& m) {
    std::optional<last_death> d = last_death_of(*m.msg);
    return d && (reason.empty() || d->reason == reason) && (origin.empty() || d->queue == origin);
  };
  q->browse(std::move(read), [self = shared_from_this(), page](browse_page found) {
    redrive_run& run = *self;
    if (run.progress_.state != redrive_state::running) return;  // cancelled meanwhile
    vhost* v = run.broker_.find_vhost(run.vhost_);
    if (found.source == nullptr || v == nullptr) return run.finish(redrive_state::stopped);
    move_counts c = move_ready(*v, run.broker_.storage(), *found.source, found.found,
                               [&run](const ready_view& m) { return run.destination_of(m); });
    move_counts& total = run.progress_.counts;
    total += c;
    // What was taken out was ahead of next_position: the rest moved up by that much.
    run.from_position_ = found.next_position - std::min(found.next_position, c.moved);
    if (found.at_end || total.moved >= run.request_.max) return run.finish(redrive_state::finished);
    deadline_scheduler* timers = run.broker_.timers();
    if (timers == nullptr) return run.step();
    std::int64_t wait_ms = run.request_.max_rate == 0 ? 0 : static_cast<std::int64_t>(page * 1000 / run.request_.max_rate);
    std::weak_ptr<redrive_run> later = self;
    timers->at(wall_clock_ms() + wait_ms, [later] {
      if (auto run = later.lock()) run->step();
    });
  });
}

std::shared_ptr<redrive_run> redrive_registry::find(const std::string& vhost, const std::string& queue) const {
  auto it = runs_.find({vhost, queue});
  return it == runs_.end() ? nullptr : it->second;
}

bool redrive_registry::start(broker& b, const std::string& vhost, const queue& source, redrive_request request) {
  std::shared_ptr<redrive_run>& slot = runs_[{vhost, source.name()}];
  if (slot && slot->progress().state == redrive_state::running) return false;
  slot = std::make_shared<redrive_run>(b, vhost, source, std::move(request));
  slot->start();
  return true;
}

}  // namespace roost
