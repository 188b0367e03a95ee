#!/usr/bin/python3
"""Consuming with pika: prefetch, cancel, consumer tags, requeue/redelivery, recover,
consumer cancel notifications, auto-delete and exclusive queue lifetimes."""
import struct

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf


def setup_queue(ch, n=0, label="q", exclusive=True, auto_delete=False, prefix=b"m"):
    q = rf.uniq(label)
    ch.queue_declare(q, exclusive=exclusive, auto_delete=auto_delete)
    if n:
        pub = rf.connect().channel()
        pub.confirm_delivery()
        for i in range(n):
            pub.basic_publish("", q, prefix + b"%d" % i)
    return q


def publish(q, bodies):
    pub = rf.connect().channel()
    pub.confirm_delivery()
    for b in bodies:
        pub.basic_publish("", q, b)


# ------------------------------------------------------------ prefetch

def test_prefetch_count_limits_unacked():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 20)
    ch.basic_qos(prefetch_count=5)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m))
    rf.wait_until(conn, lambda: len(got) == 5, what="5 deliveries")
    rf.drain(conn, 0.3)
    rf.eq(len(got), 5, "deliveries with prefetch 5 and no acks")
    ch.basic_ack(got[0].delivery_tag)
    rf.wait_until(conn, lambda: len(got) == 6, what="6th delivery after one ack")
    rf.drain(conn, 0.3)
    rf.eq(len(got), 6)
    ch.basic_ack(got[3].delivery_tag, multiple=True)  # acks tags 2..4 (1 already acked)
    rf.wait_until(conn, lambda: len(got) == 9, what="9 deliveries")
    rf.drain(conn, 0.3)
    rf.eq(len(got), 9)
    rf.eq([m.delivery_tag for m in got], list(range(1, 10)), "delivery tags")


def test_prefetch_per_consumer_vs_global():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 30)
    # global=False: the limit applies to each consumer separately
    ch.basic_qos(prefetch_count=2, global_qos=False)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    rf.wait_until(conn, lambda: len(got) == 4, what="2+2 deliveries")
    rf.drain(conn, 0.3)
    rf.eq(len(got), 4, "two consumers with per-consumer prefetch 2")

    conn2 = rf.connect()
    ch2 = conn2.channel()
    q2 = setup_queue(ch2, 30)
    ch2.basic_qos(prefetch_count=3, global_qos=True)  # shared by all consumers of the channel
    got2 = []
    ch2.basic_consume(q2, lambda c, m, p, b: got2.append(b))
    ch2.basic_consume(q2, lambda c, m, p, b: got2.append(b))
    rf.wait_until(conn2, lambda: len(got2) == 3, what="3 deliveries")
    rf.drain(conn2, 0.3)
    rf.eq(len(got2), 3, "two consumers sharing a channel-wide prefetch of 3")


def test_prefetch_zero_is_unlimited_and_auto_ack_ignores_prefetch():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 50)
    ch.basic_qos(prefetch_count=0)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    rf.wait_until(conn, lambda: len(got) == 50, what="50 unacked deliveries")

    ch2 = conn.channel()
    q2 = setup_queue(ch2, 50)
    ch2.basic_qos(prefetch_count=1)
    got2 = []
    ch2.basic_consume(q2, lambda c, m, p, b: got2.append(b), auto_ack=True)
    rf.wait_until(conn, lambda: len(got2) == 50, what="50 auto-ack deliveries despite prefetch 1")


def test_qos_change_applies_to_new_consumers_only():
    # RabbitMQ: basic.qos(global=false) sets the limit for consumers created afterwards.
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 20)
    ch.basic_qos(prefetch_count=1)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    rf.wait_until(conn, lambda: len(got) == 1, what="first delivery")
    ch.basic_qos(prefetch_count=4)
    rf.drain(conn, 0.3)
    rf.eq(len(got), 1, "existing consumer keeps its prefetch")
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    rf.wait_until(conn, lambda: len(got) == 5, what="new consumer gets 4")
    rf.drain(conn, 0.3)
    rf.eq(len(got), 5)


# ------------------------------------------------------------ cancel / tags

def test_cancel_stops_deliveries():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 3)
    got = []
    tag = ch.basic_consume(q, lambda c, m, p, b: got.append(m))
    rf.wait_until(conn, lambda: len(got) == 3, what="3 deliveries")
    ch.basic_cancel(tag)
    publish(q, [b"after-1", b"after-2"])
    rf.drain(conn, 0.3)
    rf.eq(len(got), 3, "deliveries after cancel")
    # messages delivered before the cancel can still be acked
    ch.basic_ack(got[-1].delivery_tag, multiple=True)
    ok = ch.queue_declare(q, passive=True)
    rf.eq((ok.method.message_count, ok.method.consumer_count), (2, 0))
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq(b, b"after-1")


def test_cancel_unknown_tag_is_ok():
    conn = rf.connect()
    ch = conn.channel()
    # pika refuses unknown tags client-side, so use the raw client for the wire-level check
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, (60, 30), raw.shortstr("no-such-tag") + raw.bits(False))
        args = c.expect_method(1, (60, 31))
        rf.eq(raw.parse_shortstr(args, 0)[0], b"no-such-tag")
    ch.queue_declare("", exclusive=True)  # the pika connection is unaffected


def test_server_generated_consumer_tags():
    q = rf.uniq("q")
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        tags = []
        for _ in range(3):
            c.send_method(1, raw.BASIC_CONSUME, raw.basic_consume_args(q, ""))
            args = c.expect_method(1, raw.BASIC_CONSUME_OK)
            tags.append(raw.parse_shortstr(args, 0)[0].decode())
        for t in tags:
            assert t.startswith("amq.ctag-"), "server-generated tag %r" % t
            assert len(t) > len("amq.ctag-") + 8, "tag %r too short to be unique" % t
        rf.eq(len(set(tags)), 3, "distinct tags")
        # the generated tag is usable for delivery and cancel
        c.publish(1, "", q, b"hi")
        args = c.expect_method(1, raw.BASIC_DELIVER)
        tag = raw.parse_shortstr(args, 0)[0].decode()
        rf.eq(tag, tags[0], "first consumer gets the first message")
        c.read_content(1)
        c.send_method(1, (60, 30), raw.shortstr(tags[1]) + raw.bits(False))
        args = c.expect_method(1, (60, 31))
        rf.eq(raw.parse_shortstr(args, 0)[0].decode(), tags[1])


def test_client_consumer_tag_echoed_in_deliveries():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 2)
    got = []
    tag = ch.basic_consume(q, lambda c, m, p, b: got.append(m.consumer_tag), auto_ack=True,
                           consumer_tag="my-tag-\u00e9")
    rf.eq(tag, "my-tag-\u00e9")
    rf.wait_until(conn, lambda: len(got) == 2, what="deliveries")
    rf.eq(got, ["my-tag-\u00e9"] * 2)


# ------------------------------------------------------------ requeue / redelivery

def test_nack_requeue_keeps_original_order():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 5)
    got = [ch.basic_get(q) for _ in range(5)]
    rf.eq([b for _, _, b in got], [b"m0", b"m1", b"m2", b"m3", b"m4"])
    ch.basic_nack(got[-1][0].delivery_tag, multiple=True, requeue=True)
    again = [rf.get_eventually(ch, q, auto_ack=True) for _ in range(5)]
    rf.eq([b for _, _, b in again], [b"m0", b"m1", b"m2", b"m3", b"m4"])
    rf.eq([m.redelivered for m, _, _ in again], [True] * 5)


def test_reject_and_nack_requeue_go_back_in_original_position():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 5)
    got = [ch.basic_get(q) for _ in range(3)]          # m0 m1 m2 out, m3 m4 ready
    ch.basic_reject(got[2][0].delivery_tag, requeue=True)   # m2 back
    ch.basic_nack(got[0][0].delivery_tag, multiple=False, requeue=True)  # m0 back
    ch.basic_ack(got[1][0].delivery_tag)
    rf.wait_message_count(ch, q, 4)
    rest = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        rest.append((b, m.redelivered))
    rf.eq(rest, [(b"m0", True), (b"m2", True), (b"m3", False), (b"m4", False)])


def test_reject_and_nack_without_requeue_drop():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 4)
    got = [ch.basic_get(q) for _ in range(4)]
    ch.basic_reject(got[0][0].delivery_tag, requeue=False)
    ch.basic_nack(got[2][0].delivery_tag, multiple=True, requeue=False)  # m1, m2
    ch.basic_nack(got[3][0].delivery_tag, multiple=False, requeue=True)  # m3 back
    rf.wait_message_count(ch, q, 1)
    rest = []
    while True:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        rest.append(b)
    rf.eq(rest, [b"m3"])


def test_channel_close_requeues_unacked_in_order():
    conn = rf.connect()
    keeper = conn.channel()
    q = setup_queue(keeper, 6)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b))
    rf.wait_until(conn, lambda: len(got) == 3, what="3 deliveries")
    ch.close()
    rf.wait_message_count(keeper, q, 6)
    rest = []
    while True:
        m, p, b = keeper.basic_get(q, auto_ack=True)
        if m is None:
            break
        rest.append((b, m.redelivered))
    rf.eq(rest, [(b"m0", True), (b"m1", True), (b"m2", True), (b"m3", False), (b"m4", False),
                 (b"m5", False)])


def test_redelivered_to_consumer_after_nack():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 1)
    seen = []

    def on_msg(c, m, p, b):
        seen.append((b, m.redelivered))
        if not m.redelivered:
            c.basic_nack(m.delivery_tag, requeue=True)
        else:
            c.basic_ack(m.delivery_tag)

    ch.basic_consume(q, on_msg)
    rf.wait_until(conn, lambda: len(seen) == 2, what="delivery + redelivery")
    rf.drain(conn, 0.2)
    rf.eq(seen, [(b"m0", False), (b"m0", True)])


def test_ack_all_with_tag_zero_multiple():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 4)
    for _ in range(4):
        ch.basic_get(q)
    ch.basic_ack(0, multiple=True)  # tag 0 + multiple = everything outstanding
    ch.basic_recover(requeue=True)  # would requeue anything still unacked
    ch.close()
    ch = conn.channel()
    rf.drain(conn, 0.3)
    rf.eq(ch.queue_declare(q, passive=True).method.message_count, 0)


def test_nack_all_with_tag_zero_multiple_requeues():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 3)
    for _ in range(3):
        ch.basic_get(q)
    ch.basic_nack(0, multiple=True, requeue=True)
    rf.wait_message_count(ch, q, 3)


def test_basic_recover_requeue():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((b, m.redelivered, m.delivery_tag)))
    rf.wait_until(conn, lambda: len(got) == 3, what="3 deliveries")
    ch.basic_recover(requeue=True)
    rf.wait_until(conn, lambda: len(got) == 6, what="3 redeliveries after recover")
    rf.eq([(b, r) for b, r, _ in got[3:]], [(b"m0", True), (b"m1", True), (b"m2", True)])
    rf.eq([t for _, _, t in got], [1, 2, 3, 4, 5, 6], "new delivery tags for redeliveries")
    ch.basic_ack(6, multiple=True)


def test_basic_recover_without_requeue_is_not_implemented():
    # RabbitMQ refuses basic.recover(requeue=false) with a connection error.
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 1)
    ch.basic_get(q)
    rf.expect_connection_error(lambda: ch.basic_recover(requeue=False), 540,
                               "NOT_IMPLEMENTED - requeue=false")


# ------------------------------------------------------------ cancel notification

def test_consumer_cancel_notification_on_queue_delete():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, exclusive=False)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method))
    tag = ch.basic_consume(q, lambda c, m, p, b: None)
    other = rf.connect().channel()
    other.queue_delete(q)
    rf.wait_until(conn, lambda: cancelled, what="basic.cancel from the server")
    rf.eq(cancelled[0].consumer_tag, tag)
    assert ch.is_open, "channel must stay open after a consumer cancel notification"
    ch.queue_declare("", exclusive=True)


def test_no_cancel_notification_without_capability():
    # A client that does not announce consumer_cancel_notify gets no basic.cancel.
    q = rf.uniq("q")
    with raw.RawConnection(rf.port()) as c:
        c.send(raw.PROTOCOL_HEADER)
        c.expect_method(0, raw.CONNECTION_START)
        c.send_method(0, raw.CONNECTION_START_OK,
                      raw.table([("product", "S", "no-caps")]) + raw.shortstr("PLAIN")
                      + raw.longstr(b"\x00guest\x00guest") + raw.shortstr("en_US"))
        c.expect_method(0, raw.CONNECTION_TUNE)
        c.send_method(0, raw.CONNECTION_TUNE_OK, struct.pack(">HIH", 2047, 131072, 0))
        c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr("/") + raw.shortstr("") + raw.bits(False))
        c.expect_method(0, raw.CONNECTION_OPEN_OK)
        c.open_channel(1)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        c.send_method(1, raw.BASIC_CONSUME, raw.basic_consume_args(q, "ct"))
        c.expect_method(1, raw.BASIC_CONSUME_OK)
        c.send_method(1, (50, 40), struct.pack(">H", 0) + raw.shortstr(q) + raw.bits(False, False, False))
        # next frame must be queue.delete-ok, no basic.cancel
        c.expect_method(1, (50, 41))
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args("", exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)


# ------------------------------------------------------------ queue lifetimes

def test_auto_delete_queue_deleted_when_last_consumer_goes():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, exclusive=False, auto_delete=True)
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    rf.eq(ch.queue_declare(q, passive=True).method.consumer_count, 1)
    ch.basic_cancel(t2)
    rf.wait_queue_gone(conn, q)


def test_auto_delete_queue_deleted_when_consumer_channel_closes():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, exclusive=False, auto_delete=True)
    cons = conn.channel()
    cons.basic_consume(q, lambda *a: None)
    cons.close()
    rf.wait_queue_gone(conn, q)


def test_auto_delete_queue_without_consumers_survives():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, exclusive=False, auto_delete=True)
    other = rf.connect()
    other.close()
    ch.queue_declare(q, passive=True)
    ch.queue_delete(q)


def test_exclusive_queue_removed_when_connection_closes():
    owner = rf.connect()
    och = owner.channel()
    q = rf.uniq("excl")
    och.queue_declare(q, exclusive=True)
    auto = och.queue_declare("", exclusive=True).method.queue
    assert auto.startswith("amq.gen-"), "server-named queue %r" % auto
    # usable from another channel of the same connection
    och2 = owner.channel()
    och2.basic_publish("", q, b"mine")
    m, p, b = och2.basic_get(q, auto_ack=True)
    rf.eq(b, b"mine")
    owner.close()
    other = rf.connect()
    for name in (q, auto):
        rf.wait_queue_gone(other, name)


def test_exclusive_queue_survives_channel_close():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch)
    ch.close()
    conn.channel().queue_declare(q, passive=True)


def test_server_named_queue_names_are_unique():
    ch = rf.connect().channel()
    names = {ch.queue_declare("", exclusive=True).method.queue for _ in range(20)}
    rf.eq(len(names), 20)
    for n in names:
        assert n.startswith("amq.gen-"), n


def test_consume_from_server_named_queue_with_empty_name():
    # queue.declare("") then basic.consume("") uses the channel's last declared queue
    conn = rf.connect()
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    got = []
    ch.basic_consume("", lambda c, m, p, b: got.append((m.routing_key, b)), auto_ack=True)
    ch.basic_publish("", q, b"last-queue")
    rf.wait_until(conn, lambda: got, what="delivery")
    rf.eq(got, [(q, b"last-queue")])


def test_delivery_tags_are_per_channel_and_monotonic():
    conn = rf.connect()
    ch1 = conn.channel()
    ch2 = conn.channel()
    q1 = setup_queue(ch1, 3, label="a")
    q2 = setup_queue(ch1, 3, label="b")
    tags1, tags2 = [], []
    ch1.basic_consume(q1, lambda c, m, p, b: tags1.append(m.delivery_tag), auto_ack=True)
    ch1.basic_consume(q2, lambda c, m, p, b: tags1.append(m.delivery_tag), auto_ack=True)
    q3 = setup_queue(ch2, 2, label="c")
    ch2.basic_consume(q3, lambda c, m, p, b: tags2.append(m.delivery_tag), auto_ack=True)
    rf.wait_until(conn, lambda: len(tags1) == 6 and len(tags2) == 2, what="deliveries")
    rf.eq(sorted(tags1), [1, 2, 3, 4, 5, 6])
    rf.eq(tags2, [1, 2])


def test_consumer_sees_messages_published_before_and_after():
    conn = rf.connect()
    ch = conn.channel()
    q = setup_queue(ch, 2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    publish(q, [b"later"])
    rf.wait_until(conn, lambda: len(got) == 3, what="3 deliveries")
    rf.eq(got, [b"m0", b"m1", b"later"])


if __name__ == "__main__":
    rf.main()
