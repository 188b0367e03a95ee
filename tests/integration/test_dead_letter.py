#!/usr/bin/python3
"""Dead-lettering with pika: basic.reject / basic.nack with requeue=False send the message to
the queue's x-dead-letter-exchange (with x-dead-letter-routing-key, if set) carrying
RabbitMQ's headers, and the queue.declare argument checks with RabbitMQ's texts.

Expectations were taken from a private RabbitMQ 3.10 node (run_against_rabbitmq.sh passes):
- x-death is an array of tables, newest first, one entry per (queue, reason): count (long),
  reason, queue, time (timestamp), exchange, routing-keys (array of longstr: the routing key
  and the CC keys), original-expiration (only when the message had an expiration);
- x-first-death-exchange / -queue / -reason are set on the first death only;
- a second death for the same queue and reason increments that entry's count and moves it
  to the front; the `expiration` property is removed; x-dead-letter-routing-key replaces the
  routing key and removes the CC header;
- the dead-letter exchange missing: the message is dropped.
Roost also writes x-last-death-exchange / -queue / -reason (as RabbitMQ 3.13 does); those
checks are skipped against RabbitMQ 3.10.
"""
import datetime
import struct
import time

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

V = "in vhost '/'"


def setup_dlx(ch, kind="fanout", target_key=""):
    """A dead-letter exchange with one target queue; returns (dlx, target)."""
    dlx = rf.uniq("dlx")
    target = rf.uniq("dl-target")
    ch.exchange_declare(dlx, kind, auto_delete=False)
    ch.queue_declare(target, exclusive=True)
    ch.queue_bind(target, dlx, target_key)
    return dlx, target


def dead_lettering_source(ch, exclusive=True):
    """A source queue dead-lettering to a fresh fanout DLX with one target; returns (dlx, target, src)."""
    dlx, target = setup_dlx(ch)
    src = rf.uniq("src")
    ch.queue_declare(src, exclusive=exclusive, arguments={"x-dead-letter-exchange": dlx})
    return dlx, target, src


def get_one(ch, queue):
    m, p, b = rf.get_eventually(ch, queue, auto_ack=True)
    assert m is not None, "nothing arrived in %s" % queue
    return m, p, b


def check_recent(ts):
    assert isinstance(ts, datetime.datetime), ts
    now = datetime.datetime.utcnow()
    assert abs((now - ts).total_seconds()) < 60, (ts, now)


def test_reject_dead_letters_with_x_death():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch)
    ch.basic_publish("", src, b"hello", pika.BasicProperties(
        expiration="60000", headers={"CC": ["other-key"], "foo": 1}, content_type="text/plain",
        message_id="m1", delivery_mode=1))
    m, p, b = get_one_unacked(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = get_one(ch, target)
    rf.eq(b, b"hello")
    rf.eq(m.exchange, dlx, "exchange of the dead-lettered message")
    rf.eq(m.routing_key, src, "routing key kept")
    rf.eq(m.redelivered, False)
    rf.eq(p.expiration, None, "expiration removed")
    rf.eq(p.content_type, "text/plain")
    rf.eq(p.message_id, "m1")
    h = p.headers
    rf.eq(h["foo"], 1)
    rf.eq(h["CC"], ["other-key"])
    deaths = h["x-death"]
    rf.eq(len(deaths), 1)
    d = deaths[0]
    # first death: RabbitMQ's field order
    rf.eq(list(d.keys()), ["count", "reason", "queue", "time", "exchange", "routing-keys", "original-expiration"])
    rf.eq(d["count"], 1)
    rf.eq(d["reason"], "rejected")
    rf.eq(d["queue"], src)
    check_recent(d["time"])
    rf.eq(d["exchange"], "")
    rf.eq(d["routing-keys"], [src, "other-key"])
    rf.eq(d["original-expiration"], "60000")
    rf.eq(h["x-first-death-exchange"], "")
    rf.eq(h["x-first-death-queue"], src)
    rf.eq(h["x-first-death-reason"], "rejected")
    if not rf.external():
        rf.eq(h["x-last-death-exchange"], "")
        rf.eq(h["x-last-death-queue"], src)
        rf.eq(h["x-last-death-reason"], "rejected")
    rf.eq(ch.queue_declare(src, passive=True).method.message_count, 0)


def get_one_unacked(ch, queue):
    m, p, b = rf.get_eventually(ch, queue, auto_ack=False)
    assert m is not None, "nothing in %s" % queue
    return m, p, b


def test_no_expiration_means_no_original_expiration():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch)
    ch.basic_publish("", src, b"x")
    m, _, _ = get_one_unacked(ch, src)
    ch.basic_nack(m.delivery_tag, requeue=False)
    _, p, _ = get_one(ch, target)
    d = p.headers["x-death"][0]
    assert "original-expiration" not in d, d
    rf.eq(d["reason"], "rejected")
    rf.eq(d["routing-keys"], [src])


def test_nack_multiple_dead_letters_all_in_order():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch)
    for i in range(5):
        ch.basic_publish("", src, b"m%d" % i)
    tags = []
    for i in range(5):
        m, _, _ = get_one_unacked(ch, src)
        tags.append(m.delivery_tag)
    ch.basic_nack(tags[-1], multiple=True, requeue=False)
    got = [get_one(ch, target)[2] for _ in range(5)]
    rf.eq(got, [b"m%d" % i for i in range(5)])
    rf.eq(ch.queue_declare(src, passive=True).method.message_count, 0)


def test_requeue_true_and_ack_do_not_dead_letter():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch)
    ch.basic_publish("", src, b"a")
    m, _, _ = get_one_unacked(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, _ = get_one_unacked(ch, src)
    rf.eq(m.redelivered, True)
    ch.basic_ack(m.delivery_tag)
    rf.eq(ch.basic_get(target, auto_ack=True)[0], None)


def test_dead_letter_routing_key_replaces_key_and_cc():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target = setup_dlx(ch, kind="direct", target_key="dead")
    src = rf.uniq("src")
    ch.queue_declare(src, exclusive=True, arguments={"x-dead-letter-exchange": dlx,
                                                     "x-dead-letter-routing-key": "dead"})
    ch.basic_publish("", src, b"x", pika.BasicProperties(headers={"CC": ["cc1"]}))
    m, _, _ = get_one_unacked(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, _ = get_one(ch, target)
    rf.eq(m.routing_key, "dead")
    assert "CC" not in p.headers, p.headers
    rf.eq(p.headers["x-death"][0]["routing-keys"], [src, "cc1"])


def test_dead_letter_to_default_exchange():
    conn = rf.connect()
    ch = conn.channel()
    target = rf.uniq("target")
    ch.queue_declare(target, exclusive=True)
    src = rf.uniq("src")
    ch.queue_declare(src, exclusive=True, arguments={"x-dead-letter-exchange": "",
                                                     "x-dead-letter-routing-key": target})
    ch.basic_publish("", src, b"x")
    m, _, _ = get_one_unacked(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, b = get_one(ch, target)
    rf.eq((m.exchange, m.routing_key, b), ("", target, b"x"))


def test_second_death_increments_and_moves_to_front():
    conn = rf.connect()
    ch = conn.channel()
    a, b_ = rf.uniq("pa"), rf.uniq("pb")
    ch.queue_declare(a, exclusive=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": b_})
    ch.queue_declare(b_, exclusive=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": a})
    ch.basic_publish("", a, b"x", pika.BasicProperties(headers={"CC": ["zz"]}))
    for q in [a, b_, a]:
        m, _, _ = get_one_unacked(ch, q)
        ch.basic_reject(m.delivery_tag, requeue=False)
    m, p, _ = get_one(ch, b_)
    deaths = p.headers["x-death"]
    rf.eq([(d["queue"], d["reason"], d["count"]) for d in deaths], [(a, "rejected", 2), (b_, "rejected", 1)])
    # entries written on later deaths are sorted by key, as RabbitMQ sorts them
    rf.eq(list(deaths[0].keys()), ["count", "exchange", "queue", "reason", "routing-keys", "time"])
    rf.eq(list(deaths[1].keys()), ["count", "exchange", "queue", "reason", "routing-keys", "time"])
    rf.eq(deaths[0]["routing-keys"], [a, "zz"])  # the entry keeps what it recorded first
    rf.eq(deaths[1]["routing-keys"], [b_])
    rf.eq(p.headers["x-first-death-queue"], a)
    if not rf.external():
        rf.eq(p.headers["x-last-death-queue"], a)


def test_missing_dead_letter_exchange_drops():
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("src")
    ch.queue_declare(src, exclusive=True, arguments={"x-dead-letter-exchange": rf.uniq("nowhere")})
    ch.basic_publish("", src, b"x")
    m, _, _ = get_one_unacked(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    rf.wait_message_count(ch, src, 0)
    rf.eq(ch.basic_get(src)[0], None)


def test_consumer_reject_dead_letters_and_channel_close_requeues():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch, exclusive=False)
    try:
        for i in range(3):
            ch.basic_publish("", src, b"c%d" % i)
        ch2 = conn.channel()
        ch2.basic_qos(prefetch_count=3)
        got = []

        def on_msg(c, m, p, b):
            got.append(b)
            if b == b"c1":
                c.basic_reject(m.delivery_tag, requeue=False)
        ch2.basic_consume(src, on_msg)
        rf.wait_until(conn, lambda: len(got) == 3, what="3 deliveries")
        ch2.close()  # c0 and c2 unacked: back to the queue, not dead-lettered
        rf.wait_message_count(ch, src, 2)
        _, _, b = get_one(ch, target)
        rf.eq(b, b"c1")
        rf.eq(ch.basic_get(target)[0], None)
    finally:
        ch.queue_delete(src)


def parse_value(buf, off):
    kind = buf[off:off + 1]
    off += 1
    if kind == b"S":
        (n,) = struct.unpack_from(">I", buf, off)
        return (kind, buf[off + 4:off + 4 + n]), off + 4 + n
    if kind == b"l":
        return (kind, struct.unpack_from(">q", buf, off)[0]), off + 8
    if kind == b"T":
        return (kind, struct.unpack_from(">Q", buf, off)[0]), off + 8
    if kind == b"I":
        return (kind, struct.unpack_from(">i", buf, off)[0]), off + 4
    if kind == b"F":
        return (kind, parse_table(buf, off)[0]), off + 4 + struct.unpack_from(">I", buf, off)[0]
    if kind == b"A":
        (n,) = struct.unpack_from(">I", buf, off)
        end = off + 4 + n
        off += 4
        items = []
        while off < end:
            v, off = parse_value(buf, off)
            items.append(v)
        return (kind, items), end
    if kind == b"b":
        return (kind, struct.unpack_from(">b", buf, off)[0]), off + 1
    raise AssertionError("unexpected field type %r" % kind)


def parse_table(buf, off):
    (n,) = struct.unpack_from(">I", buf, off)
    end = off + 4 + n
    off += 4
    out = {}
    while off < end:
        k, off = raw.parse_shortstr(buf, off)
        v, off = parse_value(buf, off)
        out[k.decode()] = v
    return out, end


def test_x_death_field_types_on_the_wire():
    conn = rf.connect()
    ch = conn.channel()
    dlx, target, src = dead_lettering_source(ch, exclusive=False)
    ch.queue_declare(target + "-raw", arguments={})
    ch.queue_bind(target + "-raw", dlx)
    try:
        ch.basic_publish("", src, b"x", pika.BasicProperties(expiration="5000"))
        m, _, _ = get_one_unacked(ch, src)
        ch.basic_reject(m.delivery_tag, requeue=False)
        rf.wait_message_count(ch, target + "-raw", 1)
        with raw.RawConnection(rf.port()) as c:
            c.handshake()
            c.open_channel(1)
            c.send_method(1, raw.BASIC_GET, raw.basic_get_args(target + "-raw", no_ack=True))
            c.expect_method(1, raw.BASIC_GET_OK)
            header, body = c.read_content(1)
        rf.eq(body, b"x")
        (flags,) = struct.unpack_from(">H", header, 12)
        assert flags & 0x2000, "headers flag set"
        assert not flags & 0x0100, "expiration flag cleared"
        off = 14
        if flags & 0x8000:
            off = raw.parse_shortstr(header, off)[1]
        if flags & 0x4000:
            off = raw.parse_shortstr(header, off)[1]
        headers, _ = parse_table(header, off)
        kind, deaths = headers["x-death"]
        rf.eq(kind, b"A")
        kind, entry = deaths[0]
        rf.eq(kind, b"F")
        rf.eq(entry["count"], (b"l", 1))
        rf.eq(entry["reason"], (b"S", b"rejected"))
        rf.eq(entry["queue"], (b"S", src.encode()))
        rf.eq(entry["time"][0], b"T")
        assert abs(entry["time"][1] - time.time()) < 60, entry["time"]
        rf.eq(entry["exchange"], (b"S", b""))
        rf.eq(entry["routing-keys"], (b"A", [(b"S", src.encode())]))
        rf.eq(entry["original-expiration"], (b"S", b"5000"))
        rf.eq(headers["x-first-death-reason"], (b"S", b"rejected"))
    finally:
        ch.queue_delete(src)
        ch.queue_delete(target + "-raw")


# ---- declare-time argument checks (RabbitMQ 3.10's texts)

def expect_declare_error(args, detail):
    conn = rf.connect()
    q = rf.uniq("bad-args")
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.queue_declare(q, arguments=args), 406,
                            "PRECONDITION_FAILED - " + detail.replace("QUEUE", "queue '%s' %s" % (q, V)))
    rf.wait_queue_gone(conn, q)


def test_argument_checks_like_rabbitmq():
    expect_declare_error({"x-message-ttl": -1}, "invalid arg 'x-message-ttl' for QUEUE: {value_negative,-1}")
    expect_declare_error({"x-message-ttl": "x"},
                         "invalid arg 'x-message-ttl' for QUEUE: \"expected integer, got longstr\"")
    expect_declare_error({"x-expires": 0}, "invalid arg 'x-expires' for QUEUE: {value_zero,0}")
    expect_declare_error({"x-expires": -5}, "invalid arg 'x-expires' for QUEUE: {value_negative,-5}")
    expect_declare_error({"x-max-length": -1}, "invalid arg 'x-max-length' for QUEUE: {value_negative,-1}")
    expect_declare_error({"x-max-length-bytes": "a"},
                         "invalid arg 'x-max-length-bytes' for QUEUE: \"expected integer, got longstr\"")
    expect_declare_error({"x-overflow": "foo"}, "invalid arg 'x-overflow' for QUEUE: invalid_overflow")
    expect_declare_error({"x-overflow": 1}, "invalid arg 'x-overflow' for QUEUE: {unacceptable_type,signedint}")
    expect_declare_error({"x-dead-letter-exchange": 5},
                         "invalid type 'signedint' for arg 'x-dead-letter-exchange' in QUEUE")
    expect_declare_error({"x-dead-letter-routing-key": "k"},
                         "invalid arg 'x-dead-letter-routing-key' for QUEUE: routing_key_but_no_dlx_defined")


def test_delivery_limit_argument_checked():
    if rf.external():
        rf.skip("RabbitMQ 3.10 refuses x-delivery-limit on classic queues")
    expect_declare_error({"x-delivery-limit": -1}, "invalid arg 'x-delivery-limit' for QUEUE: {value_negative,-1}")
    expect_declare_error({"x-delivery-limit": "a"},
                         "invalid arg 'x-delivery-limit' for QUEUE: \"expected integer, got longstr\"")


def test_redeclare_with_other_dead_letter_arguments_fails():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("eq")
    ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "a", "x-message-ttl": 1000})
    ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "a", "x-message-ttl": 1000})
    rf.expect_channel_error(
        lambda: ch.queue_declare(q, exclusive=True, arguments={"x-dead-letter-exchange": "b", "x-message-ttl": 1000}),
        406, "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue '%s' %s: "
        "received 'b' but current is 'a'" % (q, V))


if __name__ == "__main__":
    rf.main()
