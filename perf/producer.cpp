// The publishing loop.
//
// Every publish of a run is the same bytes except for the first 16 of the
// body, so one complete publish (basic.publish method frame, content header,
// body frames) is encoded once with the codec and each message is that
// template appended to the batch buffer plus two 8-byte stores: the send
// timestamp and the sequence number. A batch of up to batch_bytes leaves in
// one send(); confirms come back through the same loop with non-blocking
// reads. No allocation and no syscall per message.
//
// Pacing (--rate) follows an absolute schedule: message k is due at
// start + k / rate. Each wake-up sends everything due so far, so timer and
// scheduling jitter never accumulate into a lower rate, and wake-ups are at
// least min_tick apart (at most 2,000 a second) so high rates cost batches,
// not a wake-up per message: on a small box every context switch the load
// generator makes is CPU taken from the broker it measures.
#include "perf/producer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include "amqp/properties.hpp"
#include "perf/client_connection.hpp"
#include "perf/confirm_window.hpp"

namespace roost::perf {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t batch_bytes = 128 * 1024;
constexpr std::size_t read_buffer = 64 * 1024;  // only confirms come back
constexpr std::int64_t min_tick_ns = 500'000;
constexpr std::int64_t max_wait_ns = 50'000'000;  // re-check the stop flag this often

class producer {
 public:
  explicit producer(const producer_setup& s)
      : s_(s), opts_(*s.opts), conn_(opts_.uri, read_buffer) {}
  void run();

 private:
  void build_template();
  std::uint64_t allowed(std::int64_t now) const;
  void publish(std::uint64_t n, std::int64_t now);
  void read_confirms();
  bool finished(std::int64_t now) const;
  std::int64_t wait_ns(std::int64_t now) const;
  void settle_outstanding();

  const producer_setup& s_;
  const options& opts_;
  client_connection conn_;
  std::string template_;    // one complete publish
  std::size_t stamp_at_ = 0;  // offset of the body's first byte in template_
  std::uint64_t max_batch_ = 1;
  std::optional<confirm_window> confirms_;
  std::uint64_t sent_ = 0;
  std::int64_t start_ns_ = 0;
  std::int64_t end_ns_ = std::numeric_limits<std::int64_t>::max();
};

void producer::build_template() {
  amqp::basic_publish method;
  method.exchange = s_.exchange;
  method.routing_key = s_.routing_key;
  amqp::append_method_frame(template_, client_connection::channel, method);
  amqp::basic_properties props;
  props.delivery_mode = opts_.persistent ? 2 : 1;
  std::string raw_props;
  amqp::wire_writer props_out(raw_props);
  amqp::encode_properties(props_out, props);
  amqp::append_content_header(template_, client_connection::channel, opts_.size, raw_props);
  stamp_at_ = template_.size() + amqp::frame_header_size;
  amqp::append_body_frames(template_, client_connection::channel, std::string(opts_.size, 'x'), conn_.frame_max());
  max_batch_ = std::max<std::uint64_t>(1, batch_bytes / template_.size());
  conn_.out().reserve(max_batch_ * template_.size());
}

// How many messages may be appended now: pacing, --pmessages, confirm window, batch size.
std::uint64_t producer::allowed(std::int64_t now) const {
  std::uint64_t n = max_batch_;
  if (opts_.rate > 0) {
    double elapsed_s = static_cast<double>(now - start_ns_) / 1e9;
    auto due = static_cast<std::uint64_t>(elapsed_s * opts_.rate) + 1;  // message 0 is due at start
    n = std::min(n, due > sent_ ? due - sent_ : 0);
  }
  if (opts_.pmessages > 0) n = std::min(n, opts_.pmessages - sent_);
  if (confirms_) n = std::min(n, confirms_->room());
  return n;
}

void producer::publish(std::uint64_t n, std::int64_t now) {
  std::string& out = conn_.out();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::size_t at = out.size();
    out.append(template_);
    // One stamp per batch: the whole batch leaves in the same write.
    std::uint64_t seq = sent_ + i;
    std::memcpy(out.data() + at + stamp_at_, &now, sizeof now);
    std::memcpy(out.data() + at + stamp_at_ + 8, &seq, sizeof seq);
  }
  sent_ += n;
  if (confirms_) confirms_->published(n);
  s_.stats->publish(sent_, now);
}

void producer::read_confirms() {
  if (conn_.receive() == 0) return;
  conn_.dispatch([this](const frame_view& f) {
    if (!f.is_method() || !confirms_) return true;
    std::uint32_t key = f.method_key();
    amqp::wire_reader in = f.arguments();
    if (key == amqp::basic_ack::id.key()) {
      auto m = amqp::decode_arguments<amqp::basic_ack>(in);
      confirms_->settle(m.delivery_tag, m.multiple, true);
    } else if (key == amqp::basic_nack::id.key()) {
      auto m = amqp::decode_arguments<amqp::basic_nack>(in);
      confirms_->settle(m.delivery_tag, m.multiple, false);
    }
    return true;
  });
  if (confirms_) {
    s_.stats->confirmed.store(confirms_->acked(), std::memory_order_relaxed);
    s_.stats->nacked.store(confirms_->nacked(), std::memory_order_relaxed);
  }
}

bool producer::finished(std::int64_t now) const {
  return now >= end_ns_ || (opts_.pmessages > 0 && sent_ >= opts_.pmessages) ||
         s_.control->stop.load(std::memory_order_relaxed);
}

// Sleep until the next message is due (but at least min_tick), the end, or max_wait.
std::int64_t producer::wait_ns(std::int64_t now) const {
  std::int64_t wait = std::min(max_wait_ns, end_ns_ - now);
  if (opts_.rate > 0 && (!confirms_ || confirms_->room() > 0)) {
    auto next_due = start_ns_ + static_cast<std::int64_t>(static_cast<double>(sent_) * 1e9 / opts_.rate);
    wait = std::min(wait, std::max(next_due - now, min_tick_ns));
  }
  return std::max<std::int64_t>(wait, 0);
}

// After the last publish: push out what is buffered and, with confirms, wait
// for them, bounded by --drain. The send period ends when the last byte is
// handed to the socket, so even a run that fits in one batch has a rate.
void producer::settle_outstanding() {
  auto deadline = now_ns() + static_cast<std::int64_t>(opts_.drain * 1e9);
  bool written = false;
  for (;;) {
    std::int64_t now = now_ns();
    if (!written && !conn_.has_output()) {
      if (sent_ > 0) s_.stats->last_ns.store(now, std::memory_order_relaxed);
      written = true;
    }
    bool settled = written && (!confirms_ || confirms_->unsettled() == 0);
    if (settled || now >= deadline || s_.control->stop.load(std::memory_order_relaxed)) return;
    bool drained = conn_.flush();
    conn_.wait(true, !drained, std::chrono::nanoseconds(std::min(max_wait_ns, deadline - now)));
    read_confirms();
  }
}

void producer::run() {
  if (opts_.confirm > 0) {
    conn_.call<amqp::confirm_select_ok>(amqp::confirm_select{});
    confirms_.emplace(opts_.confirm);
  }
  build_template();
  s_.stats->state.store(worker_state::ready, std::memory_order_release);
  while ((start_ns_ = s_.control->go_ns.load(std::memory_order_acquire)) == 0) {
    if (s_.control->stop.load(std::memory_order_relaxed)) return;
    std::this_thread::sleep_for(1ms);
  }
  if (opts_.duration > 0) end_ns_ = start_ns_ + static_cast<std::int64_t>(opts_.duration * 1e9);
  bool may_have_input = true;  // false after a wait that saw nothing to read: skip the recv()
  for (std::int64_t now = now_ns(); !finished(now); now = now_ns()) {
    if (may_have_input) read_confirms();  // first: confirms free window room for this batch
    may_have_input = true;
    std::uint64_t n = conn_.has_output() ? 0 : allowed(now);
    if (n > 0) publish(n, now);
    bool drained = conn_.flush();
    // Flat out, or still behind schedule: build the next batch right away,
    // also after a pass that only finished an earlier partial write (n is 0
    // then; waiting for input alone would idle the producer for max_wait
    // after every batch the socket did not take whole, as with 64 KiB
    // bodies). A paced producer that has sent everything due sleeps until
    // the next message is due, at least min_tick.
    if (drained && allowed(now) > 0) continue;
    may_have_input = conn_.wait(true, !drained, std::chrono::nanoseconds(wait_ns(now)));
  }
  settle_outstanding();
  // A broker that throttles publishers may still be reading our stream; give
  // it the drain allowance, so "sent" means the broker read it.
  auto allowance = std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(opts_.drain, 5.0) * 1e9));
  if (!conn_.close(allowance)) {
    std::fprintf(stderr, "roost-perf: a producer's connection.close was not answered in time; "
                         "its last publishes may not have reached the broker\n");
  }
}

}  // namespace

void run_producer(const producer_setup& setup) noexcept {
  std::int64_t started = now_ns();
  try {
    producer p(setup);
    p.run();
    setup.stats->state.store(worker_state::finished, std::memory_order_release);
  } catch (const std::exception& e) {
    setup.stats->fail(std::string("producer: ") + e.what());
  }
  setup.stats->end_thread(started);
}

}  // namespace roost::perf
