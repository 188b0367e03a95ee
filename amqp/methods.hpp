// Every AMQP 0-9-1 method Roost speaks, each as a plain struct plus one
// description of its fields (fields(): member pointers in wire order).
//
// The field kind follows from the member's C++ type: uint8/16/32/64 are
// octet/short/long/longlong, bool is a bit (consecutive bits pack into one
// octet), std::string is a shortstr, longstr is a longstr, field_table is a
// table. method_codec.hpp reads and writes any of these structs from that
// description, so adding a method means adding one struct here and one entry
// in all_methods.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "amqp/field_table.hpp"

namespace roost::amqp {

struct longstr {
  std::string value;
  bool operator==(const longstr&) const = default;
};

// (class id, method id) as one number: the dispatch tables' sort key.
constexpr std::uint32_t method_key(std::uint16_t class_id, std::uint16_t method_id) {
  return std::uint32_t{class_id} << 16 | method_id;
}

struct method_identity {
  std::uint16_t class_id;
  std::uint16_t method_id;
  constexpr std::uint32_t key() const { return method_key(class_id, method_id); }
};

#define ROOST_AMQP_METHOD(type, cls, mth, text)        \
  static constexpr method_identity id{cls, mth};             \
  static constexpr std::string_view name = text;       \
  bool operator==(const type&) const = default

#define ROOST_AMQP_FIELDS(type, ...) \
  static constexpr auto fields() { return std::tuple{__VA_ARGS__}; }

#define ROOST_AMQP_NO_FIELDS \
  static constexpr auto fields() { return std::tuple{}; }

// ---- connection (10) ----
struct connection_start {
  ROOST_AMQP_METHOD(connection_start, 10, 10, "connection.start");
  std::uint8_t version_major = 0;
  std::uint8_t version_minor = 9;
  field_table server_properties;
  longstr mechanisms;
  longstr locales;
  ROOST_AMQP_FIELDS(connection_start, &connection_start::version_major, &connection_start::version_minor,
                    &connection_start::server_properties, &connection_start::mechanisms, &connection_start::locales)
};
struct connection_start_ok {
  ROOST_AMQP_METHOD(connection_start_ok, 10, 11, "connection.start-ok");
  field_table client_properties;
  std::string mechanism;
  longstr response;
  std::string locale;
  ROOST_AMQP_FIELDS(connection_start_ok, &connection_start_ok::client_properties, &connection_start_ok::mechanism,
                    &connection_start_ok::response, &connection_start_ok::locale)
};
struct connection_secure {
  ROOST_AMQP_METHOD(connection_secure, 10, 20, "connection.secure");
  longstr challenge;
  ROOST_AMQP_FIELDS(connection_secure, &connection_secure::challenge)
};
struct connection_secure_ok {
  ROOST_AMQP_METHOD(connection_secure_ok, 10, 21, "connection.secure-ok");
  longstr response;
  ROOST_AMQP_FIELDS(connection_secure_ok, &connection_secure_ok::response)
};
struct connection_tune {
  ROOST_AMQP_METHOD(connection_tune, 10, 30, "connection.tune");
  std::uint16_t channel_max = 0;
  std::uint32_t frame_max = 0;
  std::uint16_t heartbeat = 0;
  ROOST_AMQP_FIELDS(connection_tune, &connection_tune::channel_max, &connection_tune::frame_max,
                    &connection_tune::heartbeat)
};
struct connection_tune_ok {
  ROOST_AMQP_METHOD(connection_tune_ok, 10, 31, "connection.tune-ok");
  std::uint16_t channel_max = 0;
  std::uint32_t frame_max = 0;
  std::uint16_t heartbeat = 0;
  ROOST_AMQP_FIELDS(connection_tune_ok, &connection_tune_ok::channel_max, &connection_tune_ok::frame_max,
                    &connection_tune_ok::heartbeat)
};
struct connection_open {
  ROOST_AMQP_METHOD(connection_open, 10, 40, "connection.open");
  std::string virtual_host;
  std::string capabilities;
  bool insist = false;
  ROOST_AMQP_FIELDS(connection_open, &connection_open::virtual_host, &connection_open::capabilities,
                    &connection_open::insist)
};
struct connection_open_ok {
  ROOST_AMQP_METHOD(connection_open_ok, 10, 41, "connection.open-ok");
  std::string known_hosts;
  ROOST_AMQP_FIELDS(connection_open_ok, &connection_open_ok::known_hosts)
};
struct connection_close {
  ROOST_AMQP_METHOD(connection_close, 10, 50, "connection.close");
  std::uint16_t reply_code = 0;
  std::string reply_text;
  std::uint16_t class_id = 0;
  std::uint16_t method_id = 0;
  ROOST_AMQP_FIELDS(connection_close, &connection_close::reply_code, &connection_close::reply_text,
                    &connection_close::class_id, &connection_close::method_id)
};
struct connection_close_ok {
  ROOST_AMQP_METHOD(connection_close_ok, 10, 51, "connection.close-ok");
  ROOST_AMQP_NO_FIELDS
};
struct connection_blocked {
  ROOST_AMQP_METHOD(connection_blocked, 10, 60, "connection.blocked");
  std::string reason;
  ROOST_AMQP_FIELDS(connection_blocked, &connection_blocked::reason)
};
struct connection_unblocked {
  ROOST_AMQP_METHOD(connection_unblocked, 10, 61, "connection.unblocked");
  ROOST_AMQP_NO_FIELDS
};
struct connection_update_secret {
  ROOST_AMQP_METHOD(connection_update_secret, 10, 70, "connection.update-secret");
  longstr new_secret;
  std::string reason;
  ROOST_AMQP_FIELDS(connection_update_secret, &connection_update_secret::new_secret,
                    &connection_update_secret::reason)
};
struct connection_update_secret_ok {
  ROOST_AMQP_METHOD(connection_update_secret_ok, 10, 71, "connection.update-secret-ok");
  ROOST_AMQP_NO_FIELDS
};

// ---- channel (20) ----
struct channel_open {
  ROOST_AMQP_METHOD(channel_open, 20, 10, "channel.open");
  std::string out_of_band;
  ROOST_AMQP_FIELDS(channel_open, &channel_open::out_of_band)
};
struct channel_open_ok {
  ROOST_AMQP_METHOD(channel_open_ok, 20, 11, "channel.open-ok");
  longstr channel_id;
  ROOST_AMQP_FIELDS(channel_open_ok, &channel_open_ok::channel_id)
};
struct channel_flow {
  ROOST_AMQP_METHOD(channel_flow, 20, 20, "channel.flow");
  bool active = false;
  ROOST_AMQP_FIELDS(channel_flow, &channel_flow::active)
};
struct channel_flow_ok {
  ROOST_AMQP_METHOD(channel_flow_ok, 20, 21, "channel.flow-ok");
  bool active = false;
  ROOST_AMQP_FIELDS(channel_flow_ok, &channel_flow_ok::active)
};
struct channel_close {
  ROOST_AMQP_METHOD(channel_close, 20, 40, "channel.close");
  std::uint16_t reply_code = 0;
  std::string reply_text;
  std::uint16_t class_id = 0;
  std::uint16_t method_id = 0;
  ROOST_AMQP_FIELDS(channel_close, &channel_close::reply_code, &channel_close::reply_text, &channel_close::class_id,
                    &channel_close::method_id)
};
struct channel_close_ok {
  ROOST_AMQP_METHOD(channel_close_ok, 20, 41, "channel.close-ok");
  ROOST_AMQP_NO_FIELDS
};

// ---- access (30): obsolete, still sent by some old clients ----
struct access_request {
  ROOST_AMQP_METHOD(access_request, 30, 10, "access.request");
  std::string realm;
  bool exclusive = false;
  bool passive = false;
  bool active = false;
  bool write = false;
  bool read = false;
  ROOST_AMQP_FIELDS(access_request, &access_request::realm, &access_request::exclusive, &access_request::passive,
                    &access_request::active, &access_request::write, &access_request::read)
};
struct access_request_ok {
  ROOST_AMQP_METHOD(access_request_ok, 30, 11, "access.request-ok");
  std::uint16_t ticket = 1;
  ROOST_AMQP_FIELDS(access_request_ok, &access_request_ok::ticket)
};

// ---- exchange (40) ----
struct exchange_declare {
  ROOST_AMQP_METHOD(exchange_declare, 40, 10, "exchange.declare");
  std::uint16_t ticket = 0;
  std::string exchange;
  std::string type;
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(exchange_declare, &exchange_declare::ticket, &exchange_declare::exchange,
                    &exchange_declare::type, &exchange_declare::passive, &exchange_declare::durable,
                    &exchange_declare::auto_delete, &exchange_declare::internal, &exchange_declare::no_wait,
                    &exchange_declare::arguments)
};
struct exchange_declare_ok {
  ROOST_AMQP_METHOD(exchange_declare_ok, 40, 11, "exchange.declare-ok");
  ROOST_AMQP_NO_FIELDS
};
struct exchange_delete {
  ROOST_AMQP_METHOD(exchange_delete, 40, 20, "exchange.delete");
  std::uint16_t ticket = 0;
  std::string exchange;
  bool if_unused = false;
  bool no_wait = false;
  ROOST_AMQP_FIELDS(exchange_delete, &exchange_delete::ticket, &exchange_delete::exchange,
                    &exchange_delete::if_unused, &exchange_delete::no_wait)
};
struct exchange_delete_ok {
  ROOST_AMQP_METHOD(exchange_delete_ok, 40, 21, "exchange.delete-ok");
  ROOST_AMQP_NO_FIELDS
};
struct exchange_bind {
  ROOST_AMQP_METHOD(exchange_bind, 40, 30, "exchange.bind");
  std::uint16_t ticket = 0;
  std::string destination;
  std::string source;
  std::string routing_key;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(exchange_bind, &exchange_bind::ticket, &exchange_bind::destination, &exchange_bind::source,
                    &exchange_bind::routing_key, &exchange_bind::no_wait, &exchange_bind::arguments)
};
struct exchange_bind_ok {
  ROOST_AMQP_METHOD(exchange_bind_ok, 40, 31, "exchange.bind-ok");
  ROOST_AMQP_NO_FIELDS
};
struct exchange_unbind {
  ROOST_AMQP_METHOD(exchange_unbind, 40, 40, "exchange.unbind");
  std::uint16_t ticket = 0;
  std::string destination;
  std::string source;
  std::string routing_key;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(exchange_unbind, &exchange_unbind::ticket, &exchange_unbind::destination,
                    &exchange_unbind::source, &exchange_unbind::routing_key, &exchange_unbind::no_wait,
                    &exchange_unbind::arguments)
};
// RabbitMQ numbers unbind-ok 51, not 41.
struct exchange_unbind_ok {
  ROOST_AMQP_METHOD(exchange_unbind_ok, 40, 51, "exchange.unbind-ok");
  ROOST_AMQP_NO_FIELDS
};

// ---- queue (50) ----
struct queue_declare {
  ROOST_AMQP_METHOD(queue_declare, 50, 10, "queue.declare");
  std::uint16_t ticket = 0;
  std::string queue;
  bool passive = false;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(queue_declare, &queue_declare::ticket, &queue_declare::queue, &queue_declare::passive,
                    &queue_declare::durable, &queue_declare::exclusive, &queue_declare::auto_delete,
                    &queue_declare::no_wait, &queue_declare::arguments)
};
struct queue_declare_ok {
  ROOST_AMQP_METHOD(queue_declare_ok, 50, 11, "queue.declare-ok");
  std::string queue;
  std::uint32_t message_count = 0;
  std::uint32_t consumer_count = 0;
  ROOST_AMQP_FIELDS(queue_declare_ok, &queue_declare_ok::queue, &queue_declare_ok::message_count,
                    &queue_declare_ok::consumer_count)
};
struct queue_bind {
  ROOST_AMQP_METHOD(queue_bind, 50, 20, "queue.bind");
  std::uint16_t ticket = 0;
  std::string queue;
  std::string exchange;
  std::string routing_key;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(queue_bind, &queue_bind::ticket, &queue_bind::queue, &queue_bind::exchange,
                    &queue_bind::routing_key, &queue_bind::no_wait, &queue_bind::arguments)
};
struct queue_bind_ok {
  ROOST_AMQP_METHOD(queue_bind_ok, 50, 21, "queue.bind-ok");
  ROOST_AMQP_NO_FIELDS
};
struct queue_purge {
  ROOST_AMQP_METHOD(queue_purge, 50, 30, "queue.purge");
  std::uint16_t ticket = 0;
  std::string queue;
  bool no_wait = false;
  ROOST_AMQP_FIELDS(queue_purge, &queue_purge::ticket, &queue_purge::queue, &queue_purge::no_wait)
};
struct queue_purge_ok {
  ROOST_AMQP_METHOD(queue_purge_ok, 50, 31, "queue.purge-ok");
  std::uint32_t message_count = 0;
  ROOST_AMQP_FIELDS(queue_purge_ok, &queue_purge_ok::message_count)
};
struct queue_delete {
  ROOST_AMQP_METHOD(queue_delete, 50, 40, "queue.delete");
  std::uint16_t ticket = 0;
  std::string queue;
  bool if_unused = false;
  bool if_empty = false;
  bool no_wait = false;
  ROOST_AMQP_FIELDS(queue_delete, &queue_delete::ticket, &queue_delete::queue, &queue_delete::if_unused,
                    &queue_delete::if_empty, &queue_delete::no_wait)
};
struct queue_delete_ok {
  ROOST_AMQP_METHOD(queue_delete_ok, 50, 41, "queue.delete-ok");
  std::uint32_t message_count = 0;
  ROOST_AMQP_FIELDS(queue_delete_ok, &queue_delete_ok::message_count)
};
struct queue_unbind {
  ROOST_AMQP_METHOD(queue_unbind, 50, 50, "queue.unbind");
  std::uint16_t ticket = 0;
  std::string queue;
  std::string exchange;
  std::string routing_key;
  field_table arguments;
  ROOST_AMQP_FIELDS(queue_unbind, &queue_unbind::ticket, &queue_unbind::queue, &queue_unbind::exchange,
                    &queue_unbind::routing_key, &queue_unbind::arguments)
};
struct queue_unbind_ok {
  ROOST_AMQP_METHOD(queue_unbind_ok, 50, 51, "queue.unbind-ok");
  ROOST_AMQP_NO_FIELDS
};

// ---- basic (60) ----
struct basic_qos {
  ROOST_AMQP_METHOD(basic_qos, 60, 10, "basic.qos");
  std::uint32_t prefetch_size = 0;
  std::uint16_t prefetch_count = 0;
  bool global = false;
  ROOST_AMQP_FIELDS(basic_qos, &basic_qos::prefetch_size, &basic_qos::prefetch_count, &basic_qos::global)
};
struct basic_qos_ok {
  ROOST_AMQP_METHOD(basic_qos_ok, 60, 11, "basic.qos-ok");
  ROOST_AMQP_NO_FIELDS
};
struct basic_consume {
  ROOST_AMQP_METHOD(basic_consume, 60, 20, "basic.consume");
  std::uint16_t ticket = 0;
  std::string queue;
  std::string consumer_tag;
  bool no_local = false;
  bool no_ack = false;
  bool exclusive = false;
  bool no_wait = false;
  field_table arguments;
  ROOST_AMQP_FIELDS(basic_consume, &basic_consume::ticket, &basic_consume::queue, &basic_consume::consumer_tag,
                    &basic_consume::no_local, &basic_consume::no_ack, &basic_consume::exclusive,
                    &basic_consume::no_wait, &basic_consume::arguments)
};
struct basic_consume_ok {
  ROOST_AMQP_METHOD(basic_consume_ok, 60, 21, "basic.consume-ok");
  std::string consumer_tag;
  ROOST_AMQP_FIELDS(basic_consume_ok, &basic_consume_ok::consumer_tag)
};
struct basic_cancel {
  ROOST_AMQP_METHOD(basic_cancel, 60, 30, "basic.cancel");
  std::string consumer_tag;
  bool no_wait = false;
  ROOST_AMQP_FIELDS(basic_cancel, &basic_cancel::consumer_tag, &basic_cancel::no_wait)
};
struct basic_cancel_ok {
  ROOST_AMQP_METHOD(basic_cancel_ok, 60, 31, "basic.cancel-ok");
  std::string consumer_tag;
  ROOST_AMQP_FIELDS(basic_cancel_ok, &basic_cancel_ok::consumer_tag)
};
struct basic_publish {
  ROOST_AMQP_METHOD(basic_publish, 60, 40, "basic.publish");
  std::uint16_t ticket = 0;
  std::string exchange;
  std::string routing_key;
  bool mandatory = false;
  bool immediate = false;
  ROOST_AMQP_FIELDS(basic_publish, &basic_publish::ticket, &basic_publish::exchange, &basic_publish::routing_key,
                    &basic_publish::mandatory, &basic_publish::immediate)
};
struct basic_return {
  ROOST_AMQP_METHOD(basic_return, 60, 50, "basic.return");
  std::uint16_t reply_code = 0;
  std::string reply_text;
  std::string exchange;
  std::string routing_key;
  ROOST_AMQP_FIELDS(basic_return, &basic_return::reply_code, &basic_return::reply_text, &basic_return::exchange,
                    &basic_return::routing_key)
};
struct basic_deliver {
  ROOST_AMQP_METHOD(basic_deliver, 60, 60, "basic.deliver");
  std::string consumer_tag;
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  ROOST_AMQP_FIELDS(basic_deliver, &basic_deliver::consumer_tag, &basic_deliver::delivery_tag,
                    &basic_deliver::redelivered, &basic_deliver::exchange, &basic_deliver::routing_key)
};
struct basic_get {
  ROOST_AMQP_METHOD(basic_get, 60, 70, "basic.get");
  std::uint16_t ticket = 0;
  std::string queue;
  bool no_ack = false;
  ROOST_AMQP_FIELDS(basic_get, &basic_get::ticket, &basic_get::queue, &basic_get::no_ack)
};
struct basic_get_ok {
  ROOST_AMQP_METHOD(basic_get_ok, 60, 71, "basic.get-ok");
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::uint32_t message_count = 0;
  ROOST_AMQP_FIELDS(basic_get_ok, &basic_get_ok::delivery_tag, &basic_get_ok::redelivered, &basic_get_ok::exchange,
                    &basic_get_ok::routing_key, &basic_get_ok::message_count)
};
struct basic_get_empty {
  ROOST_AMQP_METHOD(basic_get_empty, 60, 72, "basic.get-empty");
  std::string cluster_id;
  ROOST_AMQP_FIELDS(basic_get_empty, &basic_get_empty::cluster_id)
};
struct basic_ack {
  ROOST_AMQP_METHOD(basic_ack, 60, 80, "basic.ack");
  std::uint64_t delivery_tag = 0;
  bool multiple = false;
  ROOST_AMQP_FIELDS(basic_ack, &basic_ack::delivery_tag, &basic_ack::multiple)
};
struct basic_reject {
  ROOST_AMQP_METHOD(basic_reject, 60, 90, "basic.reject");
  std::uint64_t delivery_tag = 0;
  bool requeue = true;
  ROOST_AMQP_FIELDS(basic_reject, &basic_reject::delivery_tag, &basic_reject::requeue)
};
struct basic_recover_async {
  ROOST_AMQP_METHOD(basic_recover_async, 60, 100, "basic.recover-async");
  bool requeue = false;
  ROOST_AMQP_FIELDS(basic_recover_async, &basic_recover_async::requeue)
};
struct basic_recover {
  ROOST_AMQP_METHOD(basic_recover, 60, 110, "basic.recover");
  bool requeue = false;
  ROOST_AMQP_FIELDS(basic_recover, &basic_recover::requeue)
};
struct basic_recover_ok {
  ROOST_AMQP_METHOD(basic_recover_ok, 60, 111, "basic.recover-ok");
  ROOST_AMQP_NO_FIELDS
};
struct basic_nack {
  ROOST_AMQP_METHOD(basic_nack, 60, 120, "basic.nack");
  std::uint64_t delivery_tag = 0;
  bool multiple = false;
  bool requeue = true;
  ROOST_AMQP_FIELDS(basic_nack, &basic_nack::delivery_tag, &basic_nack::multiple, &basic_nack::requeue)
};

// ---- confirm (85) ----
struct confirm_select {
  ROOST_AMQP_METHOD(confirm_select, 85, 10, "confirm.select");
  bool no_wait = false;
  ROOST_AMQP_FIELDS(confirm_select, &confirm_select::no_wait)
};
struct confirm_select_ok {
  ROOST_AMQP_METHOD(confirm_select_ok, 85, 11, "confirm.select-ok");
  ROOST_AMQP_NO_FIELDS
};

// ---- tx (90) ----
struct tx_select {
  ROOST_AMQP_METHOD(tx_select, 90, 10, "tx.select");
  ROOST_AMQP_NO_FIELDS
};
struct tx_select_ok {
  ROOST_AMQP_METHOD(tx_select_ok, 90, 11, "tx.select-ok");
  ROOST_AMQP_NO_FIELDS
};
struct tx_commit {
  ROOST_AMQP_METHOD(tx_commit, 90, 20, "tx.commit");
  ROOST_AMQP_NO_FIELDS
};
struct tx_commit_ok {
  ROOST_AMQP_METHOD(tx_commit_ok, 90, 21, "tx.commit-ok");
  ROOST_AMQP_NO_FIELDS
};
struct tx_rollback {
  ROOST_AMQP_METHOD(tx_rollback, 90, 30, "tx.rollback");
  ROOST_AMQP_NO_FIELDS
};
struct tx_rollback_ok {
  ROOST_AMQP_METHOD(tx_rollback_ok, 90, 31, "tx.rollback-ok");
  ROOST_AMQP_NO_FIELDS
};

#undef ROOST_AMQP_METHOD
#undef ROOST_AMQP_FIELDS
#undef ROOST_AMQP_NO_FIELDS

template <class... Ms>
struct method_list {};

using all_methods = method_list<
    connection_start, connection_start_ok, connection_secure, connection_secure_ok, connection_tune,
    connection_tune_ok, connection_open, connection_open_ok, connection_close, connection_close_ok,
    connection_blocked, connection_unblocked, connection_update_secret, connection_update_secret_ok, channel_open,
    channel_open_ok, channel_flow, channel_flow_ok, channel_close, channel_close_ok, access_request,
    access_request_ok, exchange_declare, exchange_declare_ok, exchange_delete, exchange_delete_ok, exchange_bind,
    exchange_bind_ok, exchange_unbind, exchange_unbind_ok, queue_declare, queue_declare_ok, queue_bind, queue_bind_ok,
    queue_purge, queue_purge_ok, queue_delete, queue_delete_ok, queue_unbind, queue_unbind_ok, basic_qos,
    basic_qos_ok, basic_consume, basic_consume_ok, basic_cancel, basic_cancel_ok, basic_publish, basic_return,
    basic_deliver, basic_get, basic_get_ok, basic_get_empty, basic_ack, basic_reject, basic_recover_async,
    basic_recover, basic_recover_ok, basic_nack, confirm_select, confirm_select_ok, tx_select, tx_select_ok,
    tx_commit, tx_commit_ok, tx_rollback, tx_rollback_ok>;

// "queue.declare" for a known id, "unknown" otherwise. For logs and errors.
std::string_view method_name(std::uint16_t class_id, std::uint16_t method_id);

}  // namespace roost::amqp
