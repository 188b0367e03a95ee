#!/usr/bin/python3
"""Core operations with python3-amqp (py-amqp 5.x): declare/bind/publish/get/consume/ack,
publisher confirms, a channel error."""
import amqp
import amqp.exceptions as ae

import roost_fixture as rf


# NB: py-amqp's queue_declare defaults to auto_delete=True; the tests pass it explicitly.


def connect(**kw):
    args = dict(host="%s:%d" % (rf.HOST, rf.port()), userid="guest", password="guest",
                virtual_host="/", connect_timeout=10, read_timeout=10, write_timeout=10)
    args.update(kw)
    conn = amqp.Connection(**args)
    conn.connect()
    return rf.track(conn)


def drain_until(conn, pred, timeout=10.0):
    import socket
    import time
    deadline = time.monotonic() + timeout
    while not pred():
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for deliveries"
        try:
            conn.drain_events(timeout=min(left, 0.5))
        except socket.timeout:
            pass


def test_negotiated_tuning():
    conn = connect()
    rf.eq(conn.frame_max, 131072, "frame_max")
    rf.eq(conn.channel_max, 2047, "channel_max")
    props = conn.server_properties
    caps = props.get("capabilities", {})
    for cap in ("publisher_confirms", "exchange_exchange_bindings", "basic.nack",
                "consumer_cancel_notify", "connection.blocked", "per_consumer_qos",
                "authentication_failure_close"):
        rf.eq(caps.get(cap), True, "server capability %s" % cap)


def test_declare_bind_publish_get_ack():
    conn = connect()
    ch = conn.channel()
    x = rf.uniq("x")
    ch.exchange_declare(x, "topic", durable=False, auto_delete=True)
    q, count, consumers = ch.queue_declare(rf.uniq("q"), exclusive=True, auto_delete=False)
    rf.eq((count, consumers), (0, 0))
    ch.queue_bind(q, x, "a.*")
    msg = amqp.Message(b"hello", content_type="text/plain", application_headers={"k": "v"},
                       delivery_mode=2, correlation_id="c1", message_id="m1")
    ch.basic_publish(msg, x, "a.b")
    ch.basic_publish(amqp.Message(b"nope"), x, "b.a")
    got = None
    for _ in range(50):  # publish is asynchronous; basic.get on the same channel sees it
        got = ch.basic_get(q, no_ack=False)
        if got is not None:
            break
    assert got is not None, "message not routed"
    rf.eq(got.body, b"hello")
    rf.eq(got.properties.get("content_type"), "text/plain")
    rf.eq(got.properties.get("application_headers"), {"k": "v"})
    rf.eq(got.properties.get("correlation_id"), "c1")
    rf.eq(got.delivery_info["routing_key"], "a.b")
    rf.eq(got.delivery_info["exchange"], x)
    rf.eq(got.delivery_info["redelivered"], False)
    ch.basic_ack(got.delivery_tag)
    rf.eq(ch.basic_get(q), None)
    ch.exchange_delete(x)


def test_consume_with_server_generated_tag_and_ack():
    conn = connect()
    ch = conn.channel()
    q = ch.queue_declare(rf.uniq("q"), exclusive=True, auto_delete=False).queue
    got = []
    tag = ch.basic_consume(q, callback=lambda m: (got.append(m.body), m.channel.basic_ack(m.delivery_tag)))
    assert tag.startswith("amq.ctag-"), tag
    for i in range(20):
        ch.basic_publish(amqp.Message(b"c%d" % i), "", q)
    drain_until(conn, lambda: len(got) == 20)
    rf.eq(got, [b"c%d" % i for i in range(20)])
    ch.basic_cancel(tag)
    rf.eq(ch.queue_declare(q, passive=True).message_count, 0)


def test_publisher_confirms():
    conn = connect(confirm_publish=True)
    ch = conn.channel()
    q = ch.queue_declare(rf.uniq("q"), exclusive=True, auto_delete=False).queue
    for i in range(100):
        ch.basic_publish(amqp.Message(b"x%d" % i), "", q)  # waits for basic.ack
    rf.eq(ch.queue_declare(q, passive=True).message_count, 100)


def test_channel_error_404():
    conn = connect()
    ch = conn.channel()
    missing = rf.uniq("missing")
    try:
        ch.queue_declare(missing, passive=True)
        raise AssertionError("passive declare of a missing queue succeeded")
    except ae.NotFound as e:
        rf.check_reply(e.reply_code, e.reply_text, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % missing)
        rf.eq(e.method_sig, (50, 10))
    assert conn.connected
    ch2 = conn.channel()
    ch2.queue_declare("", exclusive=True, auto_delete=False)


def test_channel_error_406_precondition():
    conn = connect()
    ch = conn.channel()
    # (not exclusive: RabbitMQ does not compare 'durable' when redeclaring an exclusive queue)
    q = ch.queue_declare(rf.uniq("q"), auto_delete=True).queue
    try:
        ch.queue_declare(q, durable=True, auto_delete=True)
        raise AssertionError("redeclare with other durable flag succeeded")
    except ae.PreconditionFailed as e:
        rf.check_reply(e.reply_code, e.reply_text, 406,
                       "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '/': "
                       "received 'true' but current is 'false'" % q)
    connect().channel().queue_delete(q)


def test_connection_error_bad_login():
    try:
        connect(password="wrong")
        raise AssertionError("bad password accepted")
    except ae.AccessRefused as e:
        rf.check_reply(e.reply_code, e.reply_text, 403)


def test_many_channels():
    conn = connect()
    chans = [conn.channel() for _ in range(50)]
    q = chans[0].queue_declare("", exclusive=True, auto_delete=False).queue
    for i, ch in enumerate(chans):
        ch.basic_publish(amqp.Message(b"%d" % i), "", q)
    for ch in chans:
        ch.close()
    ch = conn.channel()
    rf.eq(ch.queue_declare(q, passive=True).message_count, 50)


if __name__ == "__main__":
    rf.main()
