#!/usr/bin/python3
"""Publishing with pika (plus a few raw-socket checks of the exact frames):
mandatory/basic.return, publisher confirms, basic.get, properties and headers,
large and empty bodies."""
import datetime
import decimal
import os
import struct

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

ALL_HEADERS = {
    "str": "hello",
    "utf8": "h\u00e9llo \u2603",
    "empty_str": "",
    "bytes": b"\x00\x01\xfe\xff",
    "true": True,
    "false": False,
    "int": 42,
    "neg": -7,
    "int32max": 2 ** 31 - 1,
    "int32min": -2 ** 31,
    "big": 2 ** 40,
    # (no negative 64-bit value: pika 1.2 decodes 'l' as unsigned; the raw test covers it)
    "decimal": decimal.Decimal("3.14"),
    "decimal_int": decimal.Decimal("12"),
    "timestamp": datetime.datetime(2024, 2, 29, 13, 14, 15),
    "table": {"nested": "x", "n": 1, "deeper": {"a": [1, "b"], "t": {}}},
    "empty_table": {},
    "array": [1, "two", True, None, {"k": "v"}, [3, [4]], 2 ** 40, b"\x00"],
    "empty_array": [],
    "void": None,
}


def all_properties(**over):
    p = dict(
        content_type="application/x-roost",
        content_encoding="identity",
        headers=ALL_HEADERS,
        delivery_mode=2,
        priority=7,
        correlation_id="corr-\u00e9-1",
        reply_to="amq.rabbitmq.reply-to-not-really",
        expiration="600000",
        message_id="mid-1",
        timestamp=1700000000,
        type="roost.test",
        user_id="guest",  # RabbitMQ checks it equals the authenticated user
        app_id="roost-integration",
        cluster_id="cluster-7",
    )
    p.update(over)
    return pika.BasicProperties(**p)


PROPERTY_NAMES = ["content_type", "content_encoding", "headers", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
                  "user_id", "app_id", "cluster_id"]


def assert_same_properties(got, want):
    for name in PROPERTY_NAMES:
        rf.eq(getattr(got, name), getattr(want, name), "property %s" % name)


def fresh_queue(ch, label="q"):
    q = rf.uniq(label)
    ch.queue_declare(q, exclusive=True)
    return q


# ------------------------------------------------------------ mandatory / returns

def test_mandatory_unroutable_raises_unroutable_in_confirm_mode():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    x = rf.uniq("x")
    ch.exchange_declare(x, "direct", auto_delete=False)
    props = pika.BasicProperties(content_type="text/plain", headers={"h": 1})
    try:
        ch.basic_publish(x, "nobody-home", b"bounce", properties=props, mandatory=True)
        raise AssertionError("expected UnroutableError (basic.return before basic.ack)")
    except pe.UnroutableError as e:
        rf.eq(len(e.messages), 1)
        ret = e.messages[0]
        rf.eq(ret.method.reply_code, 312)
        rf.eq(ret.method.reply_text, "NO_ROUTE")
        rf.eq(ret.method.exchange, x)
        rf.eq(ret.method.routing_key, "nobody-home")
        rf.eq(ret.body, b"bounce")
        rf.eq(ret.properties.content_type, "text/plain")
        rf.eq(ret.properties.headers, {"h": 1})
    # routable mandatory message: no return
    q = fresh_queue(ch)
    ch.queue_bind(q, x, "k")
    ch.basic_publish(x, "k", b"ok", mandatory=True)
    # not mandatory and unroutable: silently dropped, still acked
    ch.basic_publish(x, "nobody-home", b"dropped", mandatory=False)
    ch.exchange_delete(x)


def test_mandatory_return_without_confirms():
    conn = rf.connect()
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, p, b)))
    ch.basic_publish("", rf.uniq("no-such-queue"), b"r1", mandatory=True)
    ch.basic_publish("amq.direct", rf.uniq("no-binding"), b"r2", mandatory=True)
    rf.wait_until(conn, lambda: len(returned) == 2, what="two basic.return")
    rf.eq([r[2] for r in returned], [b"r1", b"r2"])
    rf.eq([(r[0].reply_code, r[0].reply_text) for r in returned], [(312, "NO_ROUTE")] * 2)
    rf.eq(returned[1][0].exchange, "amq.direct")


def test_raw_return_arrives_before_ack():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, raw.CONFIRM_SELECT, b"\x00")
        c.expect_method(1, raw.CONFIRM_SELECT_OK)
        q = rf.uniq("q")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        nowhere = rf.uniq("nowhere")
        c.publish(1, "", nowhere, b"bounce", mandatory=True)      # tag 1: returned then acked
        c.publish(1, "", q, b"routed", mandatory=True)            # tag 2: acked
        c.publish(1, "", nowhere, b"dropped", mandatory=False)    # tag 3: acked, no return
        args = c.expect_method(1, raw.BASIC_RETURN)
        code, text, = struct.unpack_from(">H", args, 0)[0], raw.parse_shortstr(args, 2)[0]
        rf.eq((code, text), (312, b"NO_ROUTE"))
        _, body = c.read_content(1)
        rf.eq(body, b"bounce")
        acked = set()
        while len(acked) < 3:
            ch, m, args = c.read_method()
            rf.eq((ch, m), (1, raw.BASIC_ACK), "expected only basic.ack after the return")
            tag, multiple = struct.unpack_from(">QB", args, 0)
            if multiple:
                acked.update(range(1, tag + 1))
            else:
                acked.add(tag)
        rf.eq(acked, {1, 2, 3})


def test_raw_confirm_tags_cover_every_publish():
    n = 500
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, raw.CONFIRM_SELECT, b"\x00")
        c.expect_method(1, raw.CONFIRM_SELECT_OK)
        q = rf.uniq("q")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        frames = b"".join(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", q))
                          + raw.header_frame(1, 3) + raw.body_frame(1, b"%03d" % (i % 1000))
                          for i in range(n))
        c.send(frames)
        acked = set()
        last = 0
        while len(acked) < n:
            ch, m, args = c.read_method()
            rf.eq((ch, m), (1, raw.BASIC_ACK))
            tag, multiple = struct.unpack_from(">QB", args, 0)
            assert tag > last, "ack tags must increase: %d after %d" % (tag, last)
            assert 1 <= tag <= n, "ack for unknown tag %d" % tag
            if multiple & 1:
                acked.update(range(last + 1, tag + 1))
            else:
                acked.add(tag)
            last = tag
        rf.eq(acked, set(range(1, n + 1)))


def test_publisher_confirms_ack_every_publish():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    for i in range(300):
        ch.basic_publish("", q, b"c%d" % i)  # raises NackError/UnroutableError on problems
    ok = ch.queue_declare(q, passive=True)
    rf.eq(ok.method.message_count, 300)


# ------------------------------------------------------------ basic.get

def test_basic_get_and_get_empty():
    ch = rf.connect().channel()
    q = fresh_queue(ch)
    m, p, b = ch.basic_get(q)
    rf.eq((m, p, b), (None, None, None), "get on empty queue")
    ch.confirm_delivery()
    for i in range(3):
        ch.basic_publish("", q, b"g%d" % i)
    got = []
    for expect_left in (2, 1, 0):
        m, p, b = ch.basic_get(q, auto_ack=False)
        assert m is not None
        rf.eq(m.message_count, expect_left, "message_count in get-ok")
        rf.eq(m.redelivered, False)
        rf.eq(m.exchange, "")
        rf.eq(m.routing_key, q)
        got.append((m.delivery_tag, b))
    rf.eq([b for _, b in got], [b"g0", b"g1", b"g2"])
    rf.eq([t for t, _ in got], [1, 2, 3], "delivery tags start at 1 per channel")
    m, p, b = ch.basic_get(q)
    assert m is None
    ch.basic_ack(got[-1][0], multiple=True)
    rf.eq(ch.queue_declare(q, passive=True).method.message_count, 0)


def test_basic_get_reports_exchange_and_routing_key():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    ch.queue_bind(q, "amq.topic", q + ".#")
    ch.basic_publish("amq.topic", q + ".a.b", b"t")
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq((m.exchange, m.routing_key, b), ("amq.topic", q + ".a.b", b"t"))
    ch.queue_unbind(q, "amq.topic", q + ".#")


def test_basic_get_auto_ack_not_requeued_on_close():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    ch.basic_publish("", q, b"once")
    ch.basic_publish("", q, b"twice")
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq(b, b"once")
    m, p, b = ch.basic_get(q, auto_ack=False)
    rf.eq(b, b"twice")
    ch.close()  # the unacked "twice" is requeued, the auto-acked "once" is gone
    ch = conn.channel()
    m, p, b = rf.get_eventually(ch, q, auto_ack=True)
    rf.eq((b, m.redelivered), (b"twice", True))
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert m is None


# ------------------------------------------------------------ properties

def test_all_properties_and_header_types_round_trip_via_get():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    props = all_properties()
    ch.basic_publish("", q, b"props", properties=props)
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq(b, b"props")
    assert_same_properties(p, props)


def test_all_properties_round_trip_via_consume():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    props = all_properties(delivery_mode=1, priority=0, timestamp=0)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((p, b)), auto_ack=True)
    ch.basic_publish("", q, b"c", properties=props)
    rf.wait_until(conn, lambda: got, what="delivery")
    assert_same_properties(got[0][0], props)


def test_no_properties_delivered_as_none():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    ch.basic_publish("", q, b"bare")
    m, p, b = ch.basic_get(q, auto_ack=True)
    for name in PROPERTY_NAMES:
        rf.eq(getattr(p, name), None, "property %s" % name)


def test_user_id_must_match_authenticated_user():
    ch = rf.connect().channel()
    q = fresh_queue(ch)
    ch.basic_publish("", q, b"x", properties=pika.BasicProperties(user_id="mallory"))
    rf.expect_channel_error(lambda: ch.queue_declare(q, passive=True), 406,
                            "PRECONDITION_FAILED - user_id property set to 'mallory' but "
                            "authenticated user was 'guest'")


def _raw_property_bytes():
    """Every basic property set, headers holding every field type RabbitMQ knows."""
    headers = raw.table([
        ("t", "t", True), ("b", "b", -5), ("B", "B", 250), ("s", "s", -300), ("u", "u", 65000),
        ("I", "I", -70000), ("i", "i", 4000000000), ("l", "l", -2 ** 50), ("f", "f", 1.5),
        ("d", "d", -2.25), ("D", "D", (2, 31415)), ("S", "S", "long \u00e9 string"),
        ("x", "x", b"\x00\xff bytes"), ("T", "T", 1700000000), ("V", "V", None),
        ("F", "F", [("inner", "S", "v"), ("n", "I", 3)]),
        ("A", "A", [("I", 1), ("S", "two"), ("t", False), ("A", [("b", 1)])]),
    ])
    plist = (raw.shortstr("application/octet-stream") + raw.shortstr("gzip") + headers
             + bytes([2]) + bytes([9]) + raw.shortstr("corr") + raw.shortstr("reply")
             + raw.shortstr("60000") + raw.shortstr("msg-id") + struct.pack(">Q", 1234567890)
             + raw.shortstr("type") + raw.shortstr("guest") + raw.shortstr("app")
             + raw.shortstr("cluster"))
    return struct.pack(">H", 0xFFFC) + plist


def test_raw_content_header_delivered_byte_for_byte():
    props = _raw_property_bytes()
    body = b"byte-for-byte"
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        q = rf.uniq("q")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        x = rf.uniq("hx")
        c.send_method(1, raw.EXCHANGE_DECLARE,
                      struct.pack(">H", 0) + raw.shortstr(x) + raw.shortstr("headers")
                      + raw.bits(False, False, True, False, False) + raw.table([]))
        c.expect_method(1, (40, 11))
        # bind through a headers exchange so the broker has to look inside the headers
        c.send_method(1, raw.QUEUE_BIND, struct.pack(">H", 0) + raw.shortstr(q) + raw.shortstr(x)
                      + raw.shortstr("") + raw.bits(False)
                      + raw.table([("x-match", "S", "all"), ("S", "S", "long \u00e9 string")]))
        c.expect_method(1, (50, 21))
        c.publish(1, x, "", body, properties=props)
        c.publish(1, "", q, body, properties=props)
        expected_header = struct.pack(">HHQ", 60, 0, len(body)) + props
        for _ in range(2):
            c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q, no_ack=True))
            c.expect_method(1, raw.BASIC_GET_OK)
            header, got_body = c.read_content(1)
            rf.eq(got_body, body)
            assert header == expected_header, "content header changed:\n sent %r\n got  %r" % (
                expected_header, header)


def test_property_flags_partial_set():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    for props in [pika.BasicProperties(content_type="a/b"),
                  pika.BasicProperties(cluster_id="only-last"),
                  pika.BasicProperties(headers={"only": "headers"}),
                  pika.BasicProperties(priority=0, delivery_mode=1),
                  pika.BasicProperties(timestamp=0, type="")]:
        ch.basic_publish("", q, b"p", properties=props)
        m, p, b = ch.basic_get(q, auto_ack=True)
        assert_same_properties(p, props)


# ------------------------------------------------------------ bodies

def _round_trip(ch, q, body):
    ch.basic_publish("", q, body)
    m, p, b = ch.basic_get(q, auto_ack=True)
    assert m is not None, "message of %d bytes not delivered" % len(body)
    assert b == body, "body of %d bytes came back as %d bytes (equal prefix: %s)" % (
        len(body), len(b), body[:len(b)] == b)


def test_large_bodies_intact():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    frame_payload = 131072 - 8
    for size in [1, 4095, frame_payload - 1, frame_payload, frame_payload + 1,
                 2 * frame_payload, 2 * frame_payload + 1, 1024 * 1024, 1024 * 1024 + 17, 5 * 1024 * 1024]:
        _round_trip(ch, q, os.urandom(size))


def test_1mib_body_via_consumer():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    bodies = [os.urandom(1024 * 1024) for _ in range(3)]
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    for b in bodies:
        ch.basic_publish("", q, b)
    rf.wait_until(conn, lambda: len(got) == 3, what="3 large deliveries")
    assert got == bodies, "large bodies corrupted"


def test_empty_body():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = fresh_queue(ch)
    ch.basic_publish("", q, b"", properties=pika.BasicProperties(content_type="x/empty"))
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq((b, p.content_type), (b"", "x/empty"))
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    ch.basic_publish("", q, b"")
    ch.basic_publish("", q, b"after")
    rf.wait_until(conn, lambda: len(got) == 2, what="deliveries")
    rf.eq(got, [b"", b"after"])


def test_raw_empty_body_has_no_body_frame():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        q = rf.uniq("q")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        c.publish(1, "", q, b"")
        c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q))
        c.expect_method(1, raw.BASIC_GET_OK)
        ftype, ch, header = c.read_frame()
        rf.eq((ftype, ch), (raw.FRAME_HEADER, 1))
        rf.eq(struct.unpack_from(">HHQ", header, 0), (60, 0, 0))
        c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q))
        ftype, ch, payload = c.read_frame()
        rf.eq(ftype, raw.FRAME_METHOD, "frame after an empty message's header")
        rf.eq(raw.parse_method(payload)[0], raw.BASIC_GET_EMPTY)


def test_raw_body_split_respects_negotiated_frame_max():
    frame_max = 4096
    body = os.urandom(50000)
    with raw.RawConnection(rf.port()) as c:
        c.handshake(frame_max=frame_max)
        c.open_channel(1)
        q = rf.uniq("q")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        # publish in small, uneven body frames
        frames = raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", q)) + \
            raw.header_frame(1, len(body))
        off = 0
        for n in [1, 1000, 4088, 7, 3000]:
            frames += raw.body_frame(1, body[off:off + n])
            off += n
        while off < len(body):
            frames += raw.body_frame(1, body[off:off + 4088])
            off += 4088
        c.send(frames)
        c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q))
        c.expect_method(1, raw.BASIC_GET_OK)
        ftype, ch, header = c.read_frame()
        rf.eq(ftype, raw.FRAME_HEADER)
        got = b""
        sizes = []
        while len(got) < len(body):
            ftype, ch, chunk = c.read_frame()
            rf.eq((ftype, ch), (raw.FRAME_BODY, 1))
            assert 0 < len(chunk) <= frame_max - 8, "body frame of %d bytes with frame_max %d" % (
                len(chunk), frame_max)
            sizes.append(len(chunk))
            got += chunk
        assert got == body, "body corrupted"
        rf.eq(len(got), len(body))


def test_same_message_to_many_queues_identical():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    x = rf.uniq("fan")
    ch.exchange_declare(x, "fanout", auto_delete=False)
    qs = [fresh_queue(ch, "fq%d" % i) for i in range(5)]
    for q in qs:
        ch.queue_bind(q, x)
    body = os.urandom(300000)
    props = all_properties()
    ch.basic_publish(x, "rk", body, properties=props)
    for q in qs:
        m, p, b = ch.basic_get(q, auto_ack=True)
        assert b == body
        assert_same_properties(p, props)
        rf.eq((m.exchange, m.routing_key), (x, "rk"))
    ch.exchange_delete(x)


if __name__ == "__main__":
    rf.main()
