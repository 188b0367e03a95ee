// Channel life cycle, content assembly, qos, flow, confirms and transactions.
// Entity methods are in channel_entities.cpp, basic.* in channel_basic.cpp.
#include "broker/protocol/channel.hpp"

#include <algorithm>

#include "amqp/properties.hpp"
#include "broker/model/broker.hpp"
#include "broker/model/vhost.hpp"
#include "broker/protocol/connection.hpp"
#include "broker/protocol/errors.hpp"
#include "broker/queue/queue_arguments.hpp"

namespace roost {

namespace {

// Frames out of order in a publish: RabbitMQ names the basic.publish in its close.
[[noreturn]] void unexpected_frame(const std::string& text) {
  throw connection_error(amqp::connection_reply::unexpected_frame, text, amqp::basic_publish::id.key());
}

// A content frame with no publish in progress names no method.
[[noreturn]] void stray_content_frame() {
  throw connection_error(amqp::connection_reply::unexpected_frame, "expected method frame, got non method frame instead",
                         0);
}

constexpr std::uint16_t basic_class_id = 60;

// Grows a body being assembled geometrically, as append would, but never
// past its announced size: the finished message keeps its capacity while
// queued, and append's doubling would leave up to half of it unused.
void reserve_for(std::string& body, std::size_t arriving, std::uint64_t announced) {
  std::size_t needed = body.size() + arriving;
  if (needed <= body.capacity()) return;
  body.reserve(std::min<std::uint64_t>(announced, std::max(needed, 2 * body.capacity())));
}

}  // namespace

channel::channel(connection& conn, std::uint16_t id) : conn_(conn), id_(id) {}

channel::~channel() {
  if (reply_consumer_) conn_.owner().reply_to().remove(reply_consumer_->address);
}

vhost& channel::vh() { return conn_.vh(); }

void channel::handle_method(std::uint32_t method_key, amqp::wire_reader& in) {
  if (publishing_)
    unexpected_frame(publishing_->header_seen
                         ? "expected content body, got non content body frame instead"
                         : "expected content header for class 60, got non content header frame instead");
  auto handler = amqp::dispatch_table<channel>::find(method_key);
  if (handler == nullptr) throw_unexpected_method(method_key);
  handler(*this, in);
}

void channel::handle_header(amqp::wire_reader& in) {
  if (!publishing_) stray_content_frame();
  if (publishing_->header_seen)
    unexpected_frame("expected content body, got non content body frame instead");
  std::uint16_t class_id = in.u16();
  if (class_id != basic_class_id)
    unexpected_frame("expected content header for class 60, got one for class " + std::to_string(class_id) +
                     " instead");
  in.u16();  // weight, unused
  std::uint64_t body_size = in.u64();
  std::string_view raw = in.bytes(in.remaining());
  amqp::property_summary props = amqp::scan_properties(raw);
  std::uint64_t limit = conn_.owner().cfg().max_message_size;
  if (body_size > limit)
    throw_precondition_failed("message size " + std::to_string(body_size) + " is larger than configured max size " +
                              std::to_string(limit));
  message& msg = *publishing_->msg;
  msg.properties.assign(raw);
  // RabbitMQ makes these checks after the exchange's permissions, so a
  // refusal there wins: finish_publish raises the first that failed. A
  // try block costs nothing until something throws.
  try {
    if (props.reply_to == direct_reply_to::pseudo_queue) stamp_reply_address(msg);
    if (props.user_id && *props.user_id != conn_.user() && !conn_.impersonator())
      throw_precondition_failed("user_id property set to '" + std::string(*props.user_id) +
                                "' but authenticated user was '" + conn_.user() + "'");
    if (props.expiration) msg.expiration_ms = parse_expiration(*props.expiration);
  } catch (const channel_error& e) {
    publishing_->refused.emplace(e);
  }
  take_property_fields(msg, props);
  // The announced size is a promise, not bytes: a client that announces
  // 100 MB and sends nothing must hold nothing. Room for one frame now;
  // handle_body grows it as the bytes arrive.
  msg.body.reserve(std::min<std::uint64_t>(body_size, conn_.frame_max()));
  publishing_->body_size = body_size;
  publishing_->header_seen = true;
  if (body_size == 0) finish_publish();
}

void channel::handle_body(std::string_view bytes) {
  if (!publishing_) stray_content_frame();
  if (!publishing_->header_seen)
    unexpected_frame("expected content header for class 60, got non content header frame instead");
  std::string& body = publishing_->msg->body;
  if (body.size() + bytes.size() > publishing_->body_size)
    unexpected_frame("content body frames carry more than the " + std::to_string(publishing_->body_size) +
                     " bytes announced in the header");
  reserve_for(body, bytes.size(), publishing_->body_size);
  body.append(bytes);
  if (body.size() == publishing_->body_size) finish_publish();
}

void channel::release() {
  if (reply_consumer_) cancel_reply_consumer(reply_consumer_->tag);
  cancel_all_consumers();
  requeue_all_unacked();
  publishing_.reset();
  tx_publishes_.clear();
  tx_acks_.clear();
}

void channel::flush_confirms() {
  // Held back, not dropped, past a cluster leader's lease: the connection
  // is closed when the leader steps down, and the client publishes again.
  if (!confirms_due_ || !conn_.owner().may_confirm()) return;
  confirms_due_ = false;
  confirms_->flush(conn_.outbound().bytes(), id_);
  conn_.output_appended();
}

void channel::on(const amqp::channel_flow& m) {
  flow_active_ = m.active;
  reply(amqp::channel_flow_ok{m.active});
  if (flow_active_) resume_consumers();
}

void channel::on(const amqp::channel_flow_ok&) {}  // we never send channel.flow

void channel::on(const amqp::access_request&) { reply(amqp::access_request_ok{}); }

void channel::on(const amqp::basic_qos& m) {
  if (m.prefetch_size != 0)
    throw connection_error(amqp::connection_reply::not_implemented,
                           "prefetch_size!=0 (" + std::to_string(m.prefetch_size) + ")");
  if (m.global) global_prefetch_ = m.prefetch_count;
  else consumer_prefetch_ = m.prefetch_count;
  reply(amqp::basic_qos_ok{});
  resume_consumers();
}

void channel::on(const amqp::confirm_select& m) {
  if (tx_mode_) throw_precondition_failed("cannot switch from tx to confirm mode");
  if (!confirms_) confirms_.emplace();
  if (!m.no_wait) reply(amqp::confirm_select_ok{});
}

void channel::on(const amqp::tx_select&) {
  if (confirms_) throw_precondition_failed("cannot switch from confirm to tx mode");
  tx_mode_ = true;
  reply(amqp::tx_select_ok{});
}

void channel::on(const amqp::tx_commit&) {
  if (!tx_mode_) throw_precondition_failed("channel is not transactional");
  auto publishes = std::move(tx_publishes_);
  auto acks = std::move(tx_acks_);
  tx_publishes_.clear();
  tx_acks_.clear();
  for (auto& [method, msg] : publishes) {
    exchange& x = publish_target(*msg);
    route_and_enqueue(method, std::move(msg), x);
  }
  for (const auto& request : acks) apply_settle(request);
  reply(amqp::tx_commit_ok{});
}

void channel::on(const amqp::tx_rollback&) {
  if (!tx_mode_) throw_precondition_failed("channel is not transactional");
  tx_publishes_.clear();
  tx_acks_.clear();
  reply(amqp::tx_rollback_ok{});
}

}  // namespace roost
