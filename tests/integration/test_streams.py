#!/usr/bin/python3
"""Stream queues (x-queue-type: stream) with pika, aio-pika and raw frames, as RabbitMQ 3.10's
(checked with run_against_rabbitmq.sh):

- a stream is durable, never exclusive or auto-delete (406 `invalid property 'auto-delete' |
  'exclusive-owner' | 'non-durable'`, checked in that order), never server-named; arguments
  that make no sense on a log (TTL, expiry, DLX, priority, overflow, SAC, x-max-length, ...)
  are refused with `of queue type rabbit_stream_queue`; x-max-age, x-max-length-bytes and
  x-stream-max-segment-size-bytes are checked;
- a stream is read only by consumers with a prefetch count (basic.qos) and manual acks; acks
  only give credit back, nothing is ever removed by a consumer; basic.get, queue.purge,
  basic.nack / basic.reject and no-ack consumers are 540 connection errors;
- a consumer starts where its `x-stream-offset` argument says: "first", "last" (the start
  of the last chunk; Roost's chunks are single messages), "next" (the default), an offset, an AMQP timestamp or an interval
  ("10m", "1s"); every delivery carries the `x-stream-offset` header (signed 64-bit `l`,
  appended to the message's headers);
- retention (x-max-length-bytes, x-max-age) removes whole old segments, in RabbitMQ only when a
  new segment is started, so what a consumer from "first" sees is always a contiguous tail.

RabbitMQ's offsets skip one number at each new segment (osiris writes a tracking chunk
there); Roost's offsets are contiguous, which only the Roost-only checks assert.

Retention, filtering, offset tracking and durability are in test_stream_retention.py.
Roost-only here (skipped against RabbitMQ): the API's stream fields. There: filtering (`x-stream-filter-value` header,
`x-stream-filter` / `x-stream-match-unfiltered` consumer arguments, as RabbitMQ 3.13, but
exact), server-side offset tracking (`x-stream-automatic-offset-tracking`), restart and
SIGKILL safety, and the API's stream fields (first_offset, last_offset, segments,
stream_bytes, tracked_offsets, a consumer's offset and lag).
"""
import asyncio
import struct
import time

import pika

import admin_http
import raw_amqp as raw
import roost_fixture as rf
from stream_support import (
    STREAM, V, stream_args, declare_stream, confirm_channel, publish, at_second, seq_body, Reader,
    pump, expect_refused_or_crash, get_queue)


# ---------------------------------------------------------------- declare rules

def test_declare_refuses_non_durable_exclusive_and_auto_delete_streams():
    conn = rf.connect()
    cases = [
        (dict(durable=False), "non-durable"),
        (dict(durable=True, exclusive=True), "exclusive-owner"),
        (dict(durable=True, auto_delete=True), "auto-delete"),
        # several wrong: auto-delete is checked first, then exclusive, then durable
        (dict(durable=False, exclusive=True), "exclusive-owner"),
        (dict(durable=False, auto_delete=True), "auto-delete"),
        (dict(durable=True, exclusive=True, auto_delete=True), "auto-delete"),
        (dict(durable=False, exclusive=True, auto_delete=True), "auto-delete"),
    ]
    for flags, prop in cases:
        name = rf.uniq("st")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, arguments=STREAM, **flags), 406,
            "PRECONDITION_FAILED - invalid property '%s' for queue '%s' %s" % (prop, name, V))
        rf.expect_channel_error(lambda: conn.channel().queue_declare(name, passive=True), 404,
                                "NOT_FOUND - no queue '%s' %s" % (name, V))
    # quorum queues have the same three rules
    name = rf.uniq("qq")
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(name, durable=False, arguments={"x-queue-type": "quorum"}), 406,
        "PRECONDITION_FAILED - invalid property 'non-durable' for queue '%s' %s" % (name, V))
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare("", durable=True, arguments=STREAM), 406,
        "PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_stream_queue")
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare("amq.st", durable=True, arguments=STREAM), 403,
        "ACCESS_REFUSED - queue name 'amq.st' contains reserved prefix 'amq.*'")


def test_declare_stream_classic_and_quorum_unknown_types_refused():
    conn = rf.connect()
    ch = conn.channel()
    s = declare_stream(ch)
    ok = ch.queue_declare(s, durable=True, arguments=STREAM).method
    rf.eq((ok.queue, ok.message_count, ok.consumer_count), (s, 0, 0))
    rf.eq(ch.queue_declare(s, passive=True).method.queue, s)
    c = ch.queue_declare(rf.uniq("classic"), exclusive=True, arguments={"x-queue-type": "classic"}).method.queue
    rf.eq(ch.queue_declare(c, passive=True).method.queue, c)
    qq = rf.uniq("quorum")
    ch.queue_declare(qq, durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_delete(qq)
    for value in ("foo", "STREAM"):
        name = rf.uniq("bad")
        # the type is checked before the flags
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, durable=False, arguments={"x-queue-type": value}), 406,
            "PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '%s' %s: \"unsupported queue type '%s'\""
            % (name, V, value))
    for value, kind in ((5, "signedint"), (True, "bool")):
        name = rf.uniq("bad")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, durable=True, arguments={"x-queue-type": value}), 406,
            "PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '%s' %s: {unacceptable_type,%s}"
            % (name, V, kind))


def test_redeclare_is_checked_for_equivalence():
    conn = rf.connect()
    ch = conn.channel()
    s = declare_stream(ch, x_max_age="1h")
    pre = "PRECONDITION_FAILED - inequivalent arg "

    def again(**kw):
        return lambda: conn.channel().queue_declare(s, **kw)
    rf.expect_channel_error(again(durable=True, arguments={"x-queue-type": "classic", "x-max-age": "1h"}), 406,
                            pre + "'x-queue-type' for queue '%s' %s: received 'classic' but current is 'stream'" % (s, V))
    rf.expect_channel_error(again(durable=True, arguments={"x-queue-type": "quorum", "x-max-age": "1h"}), 406,
                            pre + "'x-queue-type' for queue '%s' %s: received 'quorum' but current is 'stream'" % (s, V))
    rf.expect_channel_error(again(durable=True, arguments={"x-max-age": "1h"}), 406,
                            pre + "'x-queue-type' for queue '%s' %s: received none but current is the value 'stream' "
                            "of type 'longstr'" % (s, V))
    rf.expect_channel_error(again(durable=False, arguments=stream_args(x_max_age="1h")), 406,
                            pre + "'durable' for queue '%s' %s: received 'false' but current is 'true'" % (s, V))
    rf.expect_channel_error(again(durable=True, auto_delete=True, arguments=stream_args(x_max_age="1h")), 406,
                            pre + "'auto_delete' for queue '%s' %s: received 'true' but current is 'false'" % (s, V))
    rf.expect_channel_error(again(durable=True, arguments=stream_args(x_max_age="2h")), 406,
                            pre + "'x-max-age' for queue '%s' %s: received '2h' but current is '1h'" % (s, V))
    rf.expect_channel_error(again(durable=True, arguments=STREAM), 406,
                            pre + "'x-max-age' for queue '%s' %s: received none but current is the value '1h' of "
                            "type 'longstr'" % (s, V))
    rf.expect_channel_error(again(durable=True, arguments=stream_args(x_max_age="1h", x_max_length_bytes=100)), 406,
                            pre + "'x-max-length-bytes' for queue '%s' %s: received the value '100' of type "
                            "'signedint' but current is none" % (s, V))
    # the same declaration (and arguments RabbitMQ does not compare on a stream) is fine
    rf.eq(ch.queue_declare(s, durable=True, arguments=stream_args(x_max_age="1h")).method.queue, s)
    rf.eq(ch.queue_declare(s, durable=True, arguments=stream_args(x_max_age="1h", x_foo=1)).method.queue, s)
    classic = ch.queue_declare(rf.uniq("classic"), exclusive=True).method.queue
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(classic, exclusive=True, arguments=STREAM), 406,
        pre + "'x-queue-type' for queue '%s' %s: received the value 'stream' of type 'longstr' but current is none"
        % (classic, V))


def test_arguments_a_stream_does_not_support_are_refused():
    conn = rf.connect()
    refused = [("x-message-ttl", 1000), ("x-expires", 10000), ("x-dead-letter-exchange", "dlx"),
               ("x-dead-letter-routing-key", "k"), ("x-max-priority", 5), ("x-overflow", "reject-publish"),
               ("x-overflow", "drop-head"), ("x-single-active-consumer", True), ("x-max-length", 10),
               ("x-queue-mode", "lazy"), ("x-delivery-limit", 3), ("x-message-ttl", "not a number")]
    for arg, value in refused:
        name = rf.uniq("st")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, durable=True, arguments=stream_args({arg: value})), 406,
            "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' %s of queue type rabbit_stream_queue"
            % (arg, name, V))
    # the first unsupported argument in the table's order is named, and they come before the flags
    name = rf.uniq("st")
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(name, durable=False, exclusive=True, arguments={
            "x-max-priority": 5, "x-max-length": 5, "x-queue-type": "stream"}), 406,
        "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '%s' %s of queue type rabbit_stream_queue"
        % (name, V))
    # stream arguments on a classic queue
    name = rf.uniq("classic")
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(name, exclusive=True, arguments={"x-max-age": "1h"}), 406,
        "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue '%s' %s of queue type rabbit_classic_queue"
        % (name, V))
    # accepted on a stream
    ch = conn.channel()
    for extra in ({"x-max-length-bytes": 1000}, {"x-max-length-bytes": 0}, {"x-stream-max-segment-size-bytes": 1000},
                  {"x-stream-max-segment-size-bytes": 3000000000}, {"x-initial-cluster-size": 1},
                  {"x-queue-leader-locator": "client-local"}, {"x-foo": "bar"}):
        declare_stream(ch, extra=extra)


def test_stream_argument_values_are_checked():
    conn = rf.connect()
    ch = conn.channel()
    for age in ("7D", "12h", "30m", "10s", "1Y", "1M", "1000s"):
        declare_stream(ch, x_max_age=age)

    def bad(arguments, detail, arg, flags=None):
        name = rf.uniq("st")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, arguments=arguments, **(flags or {"durable": True})), 406,
            "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' %s: %s" % (arg, name, V, detail))
    for age in ("10", "0s", "0D", "1.5h", "1d", "1 h", "10S", "1w"):
        bad(stream_args(x_max_age=age), "invalid_max_age", "x-max-age")
    bad(stream_args(x_max_age=10), "{unacceptable_type,signedint}", "x-max-age")
    bad(stream_args(x_max_age=True), "{unacceptable_type,bool}", "x-max-age")
    bad(stream_args(x_stream_max_segment_size_bytes=-1), "{value_negative,-1}", "x-stream-max-segment-size-bytes")
    bad(stream_args(x_stream_max_segment_size_bytes="1000"), '"expected integer, got longstr"',
        "x-stream-max-segment-size-bytes")
    bad(stream_args(x_max_length_bytes=-1), "{value_negative,-1}", "x-max-length-bytes")
    bad(stream_args(x_max_length_bytes="1000"), '"expected integer, got longstr"', "x-max-length-bytes")
    # values are checked before unsupported arguments and before the flags
    bad({"x-message-ttl": 5, "x-max-age": "10", "x-queue-type": "stream"}, "invalid_max_age", "x-max-age",
        flags={"durable": False})
    name = rf.uniq("st")
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(name, durable=True, arguments=stream_args(
            x_stream_max_segment_size_bytes=3000000001)), 406,
        "PRECONDITION_FAILED - Exceeded max value for x-stream-max-segment-size-bytes")
    # RabbitMQ 3.10 crashes (541) on an x-max-age that does not start with digits
    name = rf.uniq("st")
    expect_refused_or_crash(
        lambda: rf.connect().channel().queue_declare(name, durable=True, arguments=stream_args(x_max_age="abc")),
        "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue '%s' %s: invalid_max_age" % (name, V))


# ---------------------------------------------------------------- consuming

def test_consume_from_first_with_the_offset_header_and_properties_kept():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    props = [pika.BasicProperties(headers={"h": i, "s": "v%d" % i}, content_type="text/plain",
                                  message_id="id%d" % i, timestamp=1000 + i, priority=i % 3,
                                  delivery_mode=2 if i % 2 else 1) for i in range(6)]
    for i, p in enumerate(props):
        ch.basic_publish("", s, b"m%d" % i, p)
    ch.queue_bind(s, "amq.direct", "rk")
    ch.basic_publish("amq.direct", "rk", b"routed")
    r = Reader(s, "first", prefetch=10).wait(7)
    rf.eq(r.offsets, list(range(7)))
    rf.eq(r.bodies, [b"m%d" % i for i in range(6)] + [b"routed"])
    for i, (offset, body, m, p) in enumerate(r.got[:6]):
        rf.eq(p.headers, {"h": i, "s": "v%d" % i, "x-stream-offset": i}, "headers of %r" % body)
        rf.eq((p.content_type, p.message_id, p.timestamp, p.priority, p.delivery_mode),
              ("text/plain", "id%d" % i, 1000 + i, i % 3, 2 if i % 2 else 1))
        rf.eq((m.exchange, m.routing_key, m.redelivered), ("", s, False))
    rf.eq((r.got[6][2].exchange, r.got[6][2].routing_key), ("amq.direct", "rk"))
    rf.eq(r.got[6][3].headers, {"x-stream-offset": 6})
    rf.eq([m.delivery_tag for _, _, m, _ in r.got], list(range(1, 8)))


def _properties_of(header_payload):
    """Raw content header payload -> (property flags, the raw property list)."""
    (flags,) = struct.unpack_from(">H", header_payload, 12)
    return flags, header_payload[14:]


def test_offset_header_is_a_signed_64_bit_long_appended_to_the_headers():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    ch.basic_publish("", s, b"plain")
    ch.basic_publish("", s, b"with", pika.BasicProperties(headers={"a": "x", "n": 7}, priority=3, correlation_id="c1"))
    ch.basic_publish("", s, b"own", pika.BasicProperties(headers={"x-stream-offset": 999}))
    r = rf.track(raw.RawConnection(rf.port())).handshake()
    r.open_channel(1)
    r.send_method(1, raw.BASIC_QOS, struct.pack(">IHB", 0, 10, 0))
    r.expect_method(1, (60, 11))
    r.send_method(1, raw.BASIC_CONSUME, raw.basic_consume_args(s, "raw", arguments=raw.table([
        ("x-stream-offset", "S", "first")])))
    r.expect_method(1, raw.BASIC_CONSUME_OK)
    got = []
    for _ in range(3):
        r.expect_method(1, raw.BASIC_DELIVER)
        header, body = r.read_content(1)
        got.append((body,) + _properties_of(header))
    offset = lambda n: raw.table([("x-stream-offset", "l", n)])  # noqa: E731
    rf.eq(got[0], (b"plain", 0x2000, offset(0)))
    rf.eq(got[1], (b"with", 0x2C00, raw.table([("a", "S", "x"), ("n", "I", 7), ("x-stream-offset", "l", 1)])
                   + b"\x03" + raw.shortstr("c1")))
    # a publisher's own x-stream-offset header is replaced by the broker's
    rf.eq(got[2], (b"own", 0x2000, offset(2)))


def test_offsets_first_last_next_numbers_and_beyond_the_end():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    publish(ch, s, [b"m%d" % i for i in range(10)])
    every = list(range(10))
    for spec, want in (("first", every), (0, every), (-3, every), (5, every[5:]), (9, [9])):
        r = Reader(s, spec).wait(len(want))
        rf.eq(r.offsets[:len(want)], want, "offsets from %r" % (spec,))
        rf.eq(r.bodies[:len(want)], [b"m%d" % i for i in want])
    # every message was confirmed before the next, so the last chunk is the last message
    last = Reader(s, "last").wait(1)
    rf.eq(last.got[0][:2], (9, b"m9"))
    waiting = [Reader(s, "next"), Reader(s, 12), Reader(s, 100), Reader(s)]  # no argument: next
    publish(ch, s, [b"m10", b"m11", b"m12"])
    for r, want in zip(waiting[:2], ([10, 11, 12], [12])):
        r.wait(len(want))
        rf.eq(r.offsets, want)  # in order: nothing older came first
    waiting[3].wait(3)
    rf.eq(waiting[3].offsets, [10, 11, 12])
    last.wait(4)
    rf.eq(last.offsets, [9, 10, 11, 12])
    rf.drain(waiting[2].conn, 0.3)
    rf.eq(waiting[2].offsets, [])  # offset 100 does not exist yet
    name_text = "PRECONDITION_FAILED - invalid arg 'x-stream-offset' for queue '%s' %s: " % (s, V)
    for spec in ("10", "0s"):
        c = rf.connect().channel()
        c.basic_qos(prefetch_count=1)
        rf.expect_channel_error(lambda: c.basic_consume(s, lambda *a: None, arguments={"x-stream-offset": spec}),
                                406, name_text + '{invalid_stream_offset_arg,{longstr,<<"%s">>}}' % spec)

    def consume_foo():
        c = rf.connect().channel()
        c.basic_qos(prefetch_count=1)
        c.basic_consume(s, lambda *a: None, arguments={"x-stream-offset": "foo"})
    expect_refused_or_crash(consume_foo, name_text + '{invalid_stream_offset_arg,{longstr,<<"foo">>}}')


@rf.timeout(30)
def test_offsets_by_timestamp_and_interval():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    publish(ch, s, [b"a0", b"a1", b"a2"])
    t_a = time.time()
    boundary = int(t_a) + 1
    # B must be written a whole second after A (timestamps are seconds) and more than 1 s
    # after it (the "1s" interval below); the time passing is what is tested
    time.sleep(max(0.0, t_a + 1.3 - time.time()))
    publish(ch, s, [b"b0", b"b1", b"b2"])
    since_1s = Reader(s, "1s").wait(3)  # right away: B is younger than 1 s, A older
    rf.eq(since_1s.bodies, [b"b0", b"b1", b"b2"])
    rf.eq(since_1s.offsets, [3, 4, 5])
    at = Reader(s, at_second(boundary)).wait(3)  # pika sends a datetime as 'T'
    rf.eq(at.bodies, [b"b0", b"b1", b"b2"])
    for spec in (at_second(0), "10m", "1h", "1D"):
        r = Reader(s, spec).wait(6)
        rf.eq(r.bodies, [b"a0", b"a1", b"a2", b"b0", b"b1", b"b2"], "from %r" % (spec,))
    future = Reader(s, at_second(4102444800))
    publish(ch, s, [b"c0"])
    future.wait(1)
    rf.eq((future.offsets, future.bodies), ([6], [b"c0"]))


def test_basic_get_is_not_supported_on_a_stream():
    ch = rf.connect().channel()
    s = declare_stream(ch)
    ch.basic_publish("", s, b"x")
    text = "NOT_IMPLEMENTED - basic.get not supported by stream queues queue '%s' %s" % (s, V)
    rf.expect_connection_error(lambda: ch.basic_get(s), 540, text)
    rf.expect_connection_error(lambda: rf.connect().channel().basic_get(s, auto_ack=True), 540, text)


def test_consume_needs_a_prefetch_count_and_manual_acks():
    conn = rf.connect()
    s = declare_stream(conn.channel())
    no_prefetch = "PRECONDITION_FAILED - consumer prefetch count is not set for 'queue '%s' %s'" % (s, V)

    def consume(qos=None, auto_ack=False):
        ch = rf.connect().channel()
        for kw in qos or ():
            ch.basic_qos(**kw)
        return lambda: ch.basic_consume(s, lambda *a: None, auto_ack=auto_ack)
    rf.expect_channel_error(consume(), 406, no_prefetch)
    rf.expect_channel_error(consume([dict(prefetch_count=0)]), 406, no_prefetch)
    rf.expect_channel_error(consume([dict(prefetch_count=10, global_qos=True)]), 406, no_prefetch)
    rf.expect_channel_error(consume(auto_ack=True), 406, no_prefetch)
    rf.expect_connection_error(
        consume([dict(prefetch_count=10)], auto_ack=True), 540,
        "NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue '%s' %s" % (s, V))
    assert consume([dict(prefetch_count=10, global_qos=True), dict(prefetch_count=5)])()
    # exclusive is accepted and (in RabbitMQ 3.10) not enforced on a stream
    ch = rf.connect().channel()
    ch.basic_qos(prefetch_count=1)
    assert ch.basic_consume(s, lambda *a: None, exclusive=True)
    assert consume([dict(prefetch_count=1)])()
    # x-stream-offset is for streams only
    classic = conn.channel().queue_declare(rf.uniq("classic"), exclusive=True).method.queue
    c = conn.channel()
    c.basic_qos(prefetch_count=1)
    rf.expect_channel_error(
        lambda: c.basic_consume(classic, lambda *a: None, arguments={"x-stream-offset": "first"}), 406,
        "PRECONDITION_FAILED - invalid arg 'x-stream-offset' for queue '%s' %s of queue type rabbit_classic_queue"
        % (classic, V))


def test_purge_nack_and_reject_are_not_supported():
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    publish(ch, s, [b"a", b"b", b"c"])
    rf.expect_connection_error(
        lambda: rf.connect().channel().queue_purge(s), 540,
        "NOT_IMPLEMENTED - queue.purge not supported by stream queues queue '%s' %s" % (s, V))
    text = "NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue '%s' %s" % (s, V)
    for refuse in (lambda c, tag: c.basic_reject(tag, requeue=True),
                   lambda c, tag: c.basic_reject(tag, requeue=False),
                   lambda c, tag: c.basic_nack(tag, requeue=True),
                   lambda c, tag: c.basic_nack(tag, multiple=True, requeue=False)):
        r = Reader(s, "first", prefetch=3, ack=False).wait(3)
        tag = r.got[1][2].delivery_tag
        # basic.qos is a round trip after the refusal on the same channel: the close comes first
        rf.expect_connection_error(lambda: (refuse(r.ch, tag), r.ch.basic_qos(prefetch_count=3)), 540, text)
    # nothing was removed, requeued or redelivered
    r = Reader(s, "first").wait(3)
    rf.eq((r.offsets, r.bodies, [m.redelivered for _, _, m, _ in r.got]), ([0, 1, 2], [b"a", b"b", b"c"], [False] * 3))


@rf.timeout(30)
def test_acks_only_give_credit_and_remove_nothing():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    publish(ch, s, [b"m%d" % i for i in range(8)])
    holding = Reader(s, "first", prefetch=1, ack=False).wait(1)
    rf.drain(holding.conn, 0.5)  # no ack, no credit: nothing more comes (one message per chunk)
    rf.eq(holding.offsets, [0])
    acking = Reader(s, "first", prefetch=1).wait(8)
    rf.eq(acking.offsets, list(range(8)))
    second = Reader(s, "first", prefetch=3).wait(8)
    rf.eq(second.bodies, [b"m%d" % i for i in range(8)])
    # twice the same tag is an unknown tag the second time, as for any queue
    holding.ch.basic_ack(holding.got[0][2].delivery_tag)
    holding.wait(2)
    rf.eq(holding.offsets, [0, 1])
    holding.ch.basic_ack(holding.got[0][2].delivery_tag)
    rf.expect_channel_error(lambda: holding.ch.basic_qos(prefetch_count=1), 406,
                            "PRECONDITION_FAILED - unknown delivery tag 1")
    # RabbitMQ's declare-ok counts a stream from its statistics (up to ~5 s late)
    rf.wait_message_count(ch, s, 8, timeout=15)


def test_consumers_read_independently_and_wait_at_the_end():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch)
    n = 30
    publish(ch, s, [b"m%d" % i for i in range(n)])
    fast = Reader(s, "first", prefetch=50)
    slow = Reader(s, "first", prefetch=1, ack=False)  # acks by hand below
    middle = Reader(s, 10, prefetch=5)
    tail = Reader(s, "next", prefetch=5)
    readers = [fast, slow, middle, tail]
    pump(readers, lambda: len(fast.got) == n and len(middle.got) == n - 10 and slow.got, what="fast readers")
    assert len(slow.got) < n, "the reader without acks got %d messages with prefetch 1" % len(slow.got)
    while len(slow.got) < n:
        have = len(slow.got)
        slow.ch.basic_ack(slow.got[-1][2].delivery_tag)
        pump(readers, lambda: len(slow.got) > have, what="the slow reader's next message")
    rf.eq(fast.offsets, list(range(n)))
    rf.eq(slow.offsets, list(range(n)))
    rf.eq(slow.bodies, fast.bodies)
    rf.eq(middle.offsets, list(range(10, n)))
    rf.eq(tail.offsets, [])
    slow.ack = True
    slow.ch.basic_ack(slow.got[-1][2].delivery_tag, multiple=True)
    publish(ch, s, [b"late%d" % i for i in range(5)])
    pump(readers, lambda: all(len(r.got) >= want for r, want in ((fast, n + 5), (slow, n + 5), (middle, n - 5),
                                                                  (tail, 5))), what="the late messages")
    for r in readers:
        rf.eq(r.bodies[-5:], [b"late%d" % i for i in range(5)])
        rf.eq(r.offsets[-5:], list(range(n, n + 5)))


def test_deleting_a_stream_cancels_its_consumers():
    ch = confirm_channel(rf.connect())
    s = rf.uniq("stream")
    ch.queue_declare(s, durable=True, arguments=STREAM)
    publish(ch, s, [b"a", b"b"])
    r = Reader(s, "first").wait(2)
    cancelled = []
    r.ch.add_on_cancel_callback(cancelled.append)
    # RabbitMQ 3.10 answers message_count 0 for a stream, whatever it holds
    rf.eq(ch.queue_delete(s).method.message_count, 0)
    rf.wait_until(r.conn, lambda: cancelled, 5, "basic.cancel from the broker")
    rf.eq(cancelled[0].method.consumer_tag, r.tag)
    assert r.ch.is_open


# ---------------------------------------------------------------- management API


@rf.timeout(30)
def test_api_shows_the_stream_and_its_consumers():
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch, x_max_age="1h")
    q = get_queue(s)
    rf.eq((q["type"], q["durable"], q["auto_delete"], q["exclusive"], q["name"], q["vhost"]),
          ("stream", True, False, False, s, "/"))
    rf.eq(q["arguments"], {"x-queue-type": "stream", "x-max-age": "1h"})
    publish(ch, s, [b"a", b"b", b"c"])
    r = Reader(s, 1, prefetch=7, tag="api-reader").wait(2)
    # RabbitMQ lists consumers after its statistics interval
    q = admin_http.wait_for(lambda: (lambda q: q if q.get("consumer_details") else None)(get_queue(s)),
                            timeout=15, what="consumer_details")
    rf.eq(q["consumers"], 1)
    c = q["consumer_details"][0]
    rf.eq((c["consumer_tag"], c["ack_required"], c["prefetch_count"], c["exclusive"], c["arguments"], c["queue"]),
          ("api-reader", True, 7, False, {"x-stream-offset": 1}, {"name": s, "vhost": "/"}))
    assert r.offsets == [1, 2]


def test_api_roost_stream_fields_offsets_and_lag():
    if rf.external():
        rf.skip("first_offset, last_offset, segments, stream_bytes, offset, lag and tracked_offsets are Roost's")
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch, x_stream_max_segment_size_bytes=5000)
    publish(ch, s, [seq_body(i) for i in range(30)])
    holder = Reader(s, 10, prefetch=5, ack=False, tag="holder").wait(5)
    tracker = Reader(s, "first", prefetch=10, ack=False, tag="tracker",
                     arguments={"x-stream-automatic-offset-tracking": True}).wait(10)
    tracker.ch.basic_ack(tracker.got[7][2].delivery_tag, multiple=True)
    # The ack gives credit for 8 more: take them before cancelling (pika rejects deliveries
    # still pending at a cancel, and a stream answers a reject with 540).
    tracker.wait(18)
    tracker.cancel()
    q = get_queue(s)
    rf.eq((q["type"], q["first_offset"], q["last_offset"]), ("stream", 0, 29))
    assert q["segments"] >= 2, "30 messages of 200 bytes in 5000-byte segments: %r segments" % q["segments"]
    assert q["stream_bytes"] >= 30 * 200, q["stream_bytes"]
    rf.eq(holder.offsets, list(range(10, 15)))
    details = {c["consumer_tag"]: c for c in q["consumer_details"]}
    rf.eq(sorted(details), ["holder"])
    rf.eq((details["holder"]["offset"], details["holder"]["lag"]), (15, 30 - 15))
    rf.eq(q["tracked_offsets"], [{"consumer_tag": "tracker", "offset": 7}])
    holder.ch.basic_ack(holder.got[-1][2].delivery_tag, multiple=True)  # credit for 5 more
    holder.wait(10)
    publish(ch, s, [seq_body(30)])
    q = get_queue(s)
    rf.eq(q["last_offset"], 30)
    rf.eq(holder.offsets, list(range(10, 20)))
    c = {c["consumer_tag"]: c for c in q["consumer_details"]}["holder"]
    rf.eq((c["offset"], c["lag"]), (20, 31 - 20))


# ---------------------------------------------------------------- aio-pika

def test_aio_pika_consumes_from_first_with_qos_and_the_offset_header():
    import aio_pika
    name = rf.uniq("aio")
    url = "amqp://guest:guest@%s:%d/" % (rf.HOST, rf.port())

    async def run():
        conn = await aio_pika.connect(url, timeout=10)
        try:
            ch = await conn.channel()  # publisher confirms on by default
            await ch.set_qos(prefetch_count=2)
            queue = await ch.declare_queue(name, durable=True, arguments=STREAM)
            for i in range(5):
                await ch.default_exchange.publish(aio_pika.Message(b"aio%d" % i, headers={"i": i}), routing_key=name)
            got = []
            done = asyncio.Event()

            async def on_message(message):
                got.append((message.headers["x-stream-offset"], message.headers["i"], message.body))
                await message.ack()
                if len(got) == 5:
                    done.set()
            await queue.consume(on_message, arguments={"x-stream-offset": "first"})
            await asyncio.wait_for(done.wait(), 10)
            rf.eq(got, [(i, i, b"aio%d" % i) for i in range(5)])
            await queue.delete(if_unused=False, if_empty=False)
        finally:
            await conn.close()

    asyncio.run(asyncio.wait_for(run(), 30))


if __name__ == "__main__":
    rf.main()
