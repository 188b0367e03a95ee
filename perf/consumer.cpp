// The consuming loop.
//
// Deliveries arrive as method + header + body frames, usually hundreds per
// recv(). The loop reads a large chunk, takes one clock reading for the
// whole chunk (all of it arrived at once), walks the frames in place and
// queues acks into the output buffer, then sends every ack of the chunk with
// one write. Per message that is a few compares, one histogram increment and
// no allocation: basic.deliver is read field by field with the codec's
// wire_reader rather than decoded into a struct, because the struct's
// std::string members (consumer tag, exchange, routing key) would allocate.
#include "perf/consumer.hpp"

#include <algorithm>
#include <cstring>

#include "perf/client_connection.hpp"

namespace roost::perf {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t read_buffer = 512 * 1024;
constexpr auto idle_wait = 20ms;  // how often an idle consumer re-checks the stop flag

class consumer {
 public:
  explicit consumer(const consumer_setup& s) : s_(s), opts_(*s.opts), conn_(opts_.uri, read_buffer) {}
  void run();

 private:
  void subscribe();
  bool on_frame(const frame_view& f);
  void on_method(const frame_view& f);
  void on_body(const frame_view& f);
  void complete();
  bool await_data();

  const consumer_setup& s_;
  const options& opts_;
  client_connection conn_;
  std::uint32_t ack_every_ = 0;  // 0: no acks (autoack)
  std::uint32_t unacked_ = 0;
  // Acks queued but not sent; with a prefetch window they leave every
  // quarter window (see complete()), otherwise at the end of the chunk.
  std::uint32_t acks_queued_ = 0;
  std::uint32_t acks_per_write_ = 0;  // 0: at the end of the chunk only
  std::uint64_t delivery_tag_ = 0;
  std::uint64_t body_left_ = 0;
  bool body_started_ = false;
  std::int64_t stamp_ = 0;  // send timestamp of the message being assembled; 0 = none
  std::int64_t now_ = 0;    // arrival time of the current chunk
  std::uint64_t received_ = 0;
};

void consumer::subscribe() {
  if (opts_.prefetch > 0) conn_.call<amqp::basic_qos_ok>(amqp::basic_qos{0, opts_.prefetch, false});
  amqp::basic_consume consume;
  consume.queue = s_.queue;
  consume.consumer_tag = s_.consumer_tag;
  consume.no_ack = opts_.autoack;
  if (!opts_.stream_offset.empty()) {
    const std::string& at = opts_.stream_offset;
    if (at.find_first_not_of("0123456789") == std::string::npos)
      consume.arguments.set("x-stream-offset", static_cast<std::int64_t>(std::stoull(at)));
    else
      consume.arguments.set("x-stream-offset", at);
  }
  conn_.call<amqp::basic_consume_ok>(consume);
  if (!opts_.autoack) {
    // With a prefetch window smaller than K the broker would stop before the
    // K-th delivery and the ack would never come: ack at the window instead.
    ack_every_ = opts_.prefetch > 0 ? std::min<std::uint32_t>(opts_.multiple_ack, opts_.prefetch)
                                    : opts_.multiple_ack;
    if (opts_.prefetch > 0) acks_per_write_ = std::max<std::uint32_t>(1, opts_.prefetch / 4 / ack_every_);
  }
}

void consumer::complete() {
  ++received_;
  if (stamp_ > 0 && stamp_ <= now_) s_.latency->record(static_cast<std::uint64_t>(now_ - stamp_));
  stamp_ = 0;
  if (ack_every_ > 0 && ++unacked_ >= ack_every_) {
    amqp::append_method_frame(conn_.out(), client_connection::channel,
                              amqp::basic_ack{delivery_tag_, ack_every_ > 1});
    unacked_ = 0;
    // A chunk often holds the whole prefetch window: acking all of it only
    // at the end would leave the broker idle while this thread walks the
    // chunk, and this thread idle while the broker refills the window.
    // Sending each quarter as it is done keeps both busy, as a client that
    // acks while it works does.
    if (acks_per_write_ > 0 && ++acks_queued_ >= acks_per_write_) {
      conn_.flush();
      acks_queued_ = 0;
    }
  }
}

void consumer::on_method(const frame_view& f) {
  std::uint32_t key = f.method_key();
  if (key == amqp::basic_deliver::id.key()) {
    amqp::wire_reader in = f.arguments();
    in.shortstr();  // consumer tag
    delivery_tag_ = in.u64();
    body_started_ = false;
  } else if (key == amqp::basic_cancel::id.key()) {
    throw broker_error("the broker cancelled the consumer on " + s_.queue + " (queue deleted?)");
  }
}

void consumer::on_body(const frame_view& f) {
  if (!body_started_ && f.size >= sizeof stamp_) std::memcpy(&stamp_, f.payload, sizeof stamp_);
  body_started_ = true;
  body_left_ -= std::min<std::uint64_t>(body_left_, f.size);
  if (body_left_ == 0) complete();
}

bool consumer::on_frame(const frame_view& f) {
  switch (static_cast<amqp::frame_type>(f.type)) {
    case amqp::frame_type::method:
      if (f.is_method()) on_method(f);
      break;
    case amqp::frame_type::header: {
      amqp::wire_reader in(f.payload, f.size);
      in.u16();  // class
      in.u16();  // weight
      body_left_ = in.u64();
      if (body_left_ == 0) complete();
      break;
    }
    case amqp::frame_type::body: on_body(f); break;
    default: break;
  }
  return true;
}

// Flushes the acks queued so far and waits for the next chunk; false once
// told to stop. Under full load the socket always has more, so this is one
// recv(); when the consumer keeps up, it is one ppoll() and one recv().
bool consumer::await_data() {
  bool may_have_input = !conn_.input_drained();
  for (;;) {
    bool drained = conn_.flush();
    if (s_.control->stop.load(std::memory_order_relaxed)) return false;
    if (may_have_input && conn_.receive() > 0) return true;
    may_have_input = conn_.wait(true, !drained, idle_wait);
  }
}

void consumer::run() {
  subscribe();
  s_.stats->state.store(worker_state::ready, std::memory_order_release);
  auto handle = [this](const frame_view& f) { return on_frame(f); };
  now_ = now_ns();
  for (;;) {
    std::uint64_t before = received_;
    conn_.dispatch(handle);  // the first time: deliveries that came with consume-ok
    if (received_ != before) s_.stats->publish(received_, now_);
    if (opts_.cmessages > 0 && received_ >= opts_.cmessages) break;  // its replay is done
    if (!await_data()) break;
    now_ = now_ns();
  }
  conn_.close();
}

}  // namespace

void run_consumer(const consumer_setup& setup) noexcept {
  std::int64_t started = now_ns();
  try {
    consumer c(setup);
    c.run();
    setup.stats->state.store(worker_state::finished, std::memory_order_release);
  } catch (const std::exception& e) {
    setup.stats->fail(std::string("consumer on " + setup.queue + ": ") + e.what());
  }
  setup.stats->end_thread(started);
}

}  // namespace roost::perf
