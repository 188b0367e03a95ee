#!/usr/bin/python3
"""Error replies with pika: exact reply codes and texts as RabbitMQ sends them."""
import struct

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

V = "in vhost '/'"


def no_queue(q):
    return "NOT_FOUND - no queue '%s' %s" % (q, V)


def no_exchange(x):
    return "NOT_FOUND - no exchange '%s' %s" % (x, V)


def locked(q):
    return ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' %s. It could be "
            "originally declared on another connection or the exclusive property value does not "
            "match that of the original declaration." % (q, V))


# ------------------------------------------------------------ 403 ACCESS_REFUSED

def test_403_declare_exchange_with_amq_prefix():
    ch = rf.connect().channel()
    rf.expect_channel_error(lambda: ch.exchange_declare("amq.foo", "direct"), 403,
                            "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'")


def test_403_declare_queue_with_amq_prefix():
    ch = rf.connect().channel()
    rf.expect_channel_error(lambda: ch.queue_declare("amq.myqueue"), 403,
                            "ACCESS_REFUSED - queue name 'amq.myqueue' contains reserved prefix 'amq.*'")


def test_403_delete_predeclared_exchange():
    ch = rf.connect().channel()
    rf.expect_channel_error(lambda: ch.exchange_delete("amq.direct"), 403,
                            "ACCESS_REFUSED - deletion of system exchange 'amq.direct' %s not allowed" % V)


def test_403_bind_to_default_exchange():
    ch = rf.connect().channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    rf.expect_channel_error(lambda: ch.queue_bind(q, "", "k"), 403,
                            "ACCESS_REFUSED - operation not permitted on the default exchange")


def test_403_bad_password():
    try:
        rf.connect(credentials=pika.PlainCredentials("guest", "wrong-password"))
        raise AssertionError("connection with a bad password succeeded")
    except pe.ProbableAuthenticationError as e:
        text = str(e)
        assert "(403)" in text and "ACCESS_REFUSED - Login was refused using authentication " \
            "mechanism PLAIN. For details see the broker logfile." in text, text


def test_403_unknown_user():
    try:
        rf.connect(credentials=pika.PlainCredentials("nobody-" + rf.uniq("u"), "guest"))
        raise AssertionError("connection with an unknown user succeeded")
    except pe.ProbableAuthenticationError as e:
        assert "(403)" in str(e) and "ACCESS_REFUSED - Login was refused" in str(e), str(e)


def _start_ok_bad_password(c, capabilities):
    c.send(raw.PROTOCOL_HEADER)
    c.expect_method(0, raw.CONNECTION_START)
    props = raw.table([("capabilities", "F", capabilities)]) if capabilities is not None else raw.table([])
    c.send_method(0, raw.CONNECTION_START_OK,
                  props + raw.shortstr("PLAIN") + raw.longstr(b"\x00guest\x00nope") + raw.shortstr("en_US"))


def test_403_bad_password_raw_close():
    # the wire view: a client announcing authentication_failure_close gets
    # connection.close(403, text, 0, 0) right after start-ok
    with raw.RawConnection(rf.port()) as c:
        _start_ok_bad_password(c, [("authentication_failure_close", "t", True)])
        code, text, cls, mid = c.expect_connection_close()
        rf.check_reply(code, text, 403, "ACCESS_REFUSED - Login was refused using authentication "
                       "mechanism PLAIN. For details see the broker logfile.")
        rf.eq((cls, mid), (0, 0))
        c.send_close_ok()
        c.expect_eof()


def test_bad_password_without_capability_just_closes_socket():
    # RabbitMQ: without the authentication_failure_close capability there is no
    # connection.close; the socket is simply closed.
    for caps in (None, [("authentication_failure_close", "t", False)]):
        with raw.RawConnection(rf.port()) as c:
            _start_ok_bad_password(c, caps)
            try:
                frame = c.read_frame(10)
            except raw.ServerClosedSocket:
                continue
            raise AssertionError("expected the socket to be closed, got frame %r" % (frame,))


def test_403_exclusive_consumer_conflicts():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    ch2 = conn.channel()
    rf.expect_channel_error(lambda: ch2.basic_consume(q, lambda *a: None), 403,
                            "ACCESS_REFUSED - queue '%s' %s in exclusive use" % (q, V))


def test_403_exclusive_consume_when_queue_has_consumers():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    ch.basic_consume(q, lambda *a: None)
    ch2 = conn.channel()
    rf.expect_channel_error(lambda: ch2.basic_consume(q, lambda *a: None, exclusive=True), 403,
                            "ACCESS_REFUSED - queue '%s' %s in exclusive use" % (q, V))


def test_403_publish_to_internal_exchange():
    ch = rf.connect().channel()
    x = rf.uniq("internal")
    ch.exchange_declare(x, "topic", internal=True, auto_delete=True)
    ch.basic_publish(x, "k", b"x")
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 403,
                            "ACCESS_REFUSED - cannot publish to internal exchange '%s' %s" % (x, V))


# ------------------------------------------------------------ 404 NOT_FOUND

def test_404_passive_declare_missing_queue():
    ch = rf.connect().channel()
    q = rf.uniq("missing")
    e = rf.expect_channel_error(lambda: ch.queue_declare(q, passive=True), 404, no_queue(q))


def test_404_passive_declare_missing_exchange():
    ch = rf.connect().channel()
    x = rf.uniq("missing")
    rf.expect_channel_error(lambda: ch.exchange_declare(x, "direct", passive=True), 404, no_exchange(x))


def test_404_publish_to_missing_exchange():
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("missing")
    ch.basic_publish(x, "k", b"lost")
    # the error is asynchronous: it closes the channel, seen at the next synchronous call
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 404, no_exchange(x))
    assert conn.is_open, "a channel error must not close the connection"
    conn.channel().queue_declare("", exclusive=True)


def test_404_publish_to_missing_exchange_in_confirm_mode():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    x = rf.uniq("missing")
    rf.expect_channel_error(lambda: ch.basic_publish(x, "k", b"lost"), 404, no_exchange(x))


def test_404_bind_missing_queue_and_missing_exchange():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("missing")
    rf.expect_channel_error(lambda: ch.queue_bind(q, "amq.direct", "k"), 404, no_queue(q))
    ch = conn.channel()
    real_q = ch.queue_declare("", exclusive=True).method.queue
    x = rf.uniq("missing")
    rf.expect_channel_error(lambda: ch.queue_bind(real_q, x, "k"), 404, no_exchange(x))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.exchange_bind("amq.direct", x, "k"), 404, no_exchange(x))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.exchange_bind(x, "amq.direct", "k"), 404, no_exchange(x))


def test_404_get_and_consume_missing_queue():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("missing")
    rf.expect_channel_error(lambda: ch.basic_get(q), 404, no_queue(q))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.basic_consume(q, lambda *a: None), 404, no_queue(q))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.queue_purge(q), 404, no_queue(q))


def test_delete_and_unbind_missing_things_are_ok():
    # RabbitMQ 3.x: deleting a missing queue/exchange and unbinding a missing binding succeed.
    ch = rf.connect().channel()
    ch.queue_delete(rf.uniq("missing"))
    ch.exchange_delete(rf.uniq("missing"))
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_unbind(q, "amq.direct", "never-bound")
    ch.queue_unbind(rf.uniq("missing"), "amq.direct", "never-bound")
    ch.queue_declare("", exclusive=True)


def test_404_connection_survives_and_other_channels_unaffected():
    conn = rf.connect()
    good = conn.channel()
    q = good.queue_declare("", exclusive=True).method.queue
    bad = conn.channel()
    rf.expect_channel_error(lambda: bad.queue_declare(rf.uniq("missing"), passive=True), 404)
    good.basic_publish("", q, b"still fine")
    m, p, b = good.basic_get(q, auto_ack=True)
    rf.eq(b, b"still fine")


# ------------------------------------------------------------ 405 RESOURCE_LOCKED

def test_405_other_connection_uses_exclusive_queue():
    owner = rf.connect().channel()
    q = rf.uniq("excl")
    owner.queue_declare(q, exclusive=True)
    other = rf.connect()
    ops = [
        ("declare", lambda ch: ch.queue_declare(q)),
        ("declare exclusive", lambda ch: ch.queue_declare(q, exclusive=True)),
        ("passive declare", lambda ch: ch.queue_declare(q, passive=True)),
        ("consume", lambda ch: ch.basic_consume(q, lambda *a: None)),
        ("get", lambda ch: ch.basic_get(q)),
        ("purge", lambda ch: ch.queue_purge(q)),
        ("delete", lambda ch: ch.queue_delete(q)),
        ("bind", lambda ch: ch.queue_bind(q, "amq.direct", "k")),
    ]
    for what, op in ops:
        ch = other.channel()
        try:
            rf.expect_channel_error(lambda: op(ch), 405, locked(q))
        except AssertionError as e:
            raise AssertionError("%s: %s" % (what, e))
    # the owner still has its queue
    owner.queue_declare(q, passive=True)


# ------------------------------------------------------------ 406 PRECONDITION_FAILED

def test_406_redeclare_queue_with_different_durable():
    ch = rf.connect().channel()
    q = rf.uniq("q")
    ch.queue_declare(q, durable=False, auto_delete=True)
    rf.expect_channel_error(lambda: ch.queue_declare(q, durable=True, auto_delete=True), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' %s: "
                            "received 'true' but current is 'false'" % (q, V))


def test_exclusive_queue_redeclare_rules():
    # RabbitMQ: the durable flag is not compared for an exclusive queue, exclusive itself
    # is (405), auto_delete and arguments are (406).
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    ch.queue_declare(q, exclusive=True, durable=True)
    rf.expect_channel_error(lambda: ch.queue_declare(q, exclusive=False), 405, locked(q))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.queue_declare(q, exclusive=True, auto_delete=True), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' %s: "
                            "received 'true' but current is 'false'" % (q, V))


def test_406_redeclare_queue_with_different_auto_delete():
    ch = rf.connect().channel()
    q = rf.uniq("q")
    ch.queue_declare(q, auto_delete=True)
    rf.expect_channel_error(lambda: ch.queue_declare(q, auto_delete=False), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' %s: "
                            "received 'false' but current is 'true'" % (q, V))
    rf.connect().channel().queue_delete(q)


def test_406_redeclare_queue_with_different_arguments():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    rf.expect_channel_error(lambda: ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 10}), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' %s: "
                            "received the value '10' of type 'signedint' but current is none" % (q, V))
    q2 = rf.uniq("q")
    ch = conn.channel()
    ch.queue_declare(q2, exclusive=True, arguments={"x-max-length": 10})
    ch.queue_declare(q2, exclusive=True, arguments={"x-max-length": 10})  # same: fine
    rf.expect_channel_error(lambda: ch.queue_declare(q2, exclusive=True, arguments={"x-max-length": 20}), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' %s: "
                            "received '20' but current is '10'" % (q2, V))
    # passive declare ignores the other fields entirely
    conn.channel().queue_declare(q2, passive=True, durable=True, arguments={"x-max-length": 99})


def test_406_redeclare_exchange_with_different_type_or_durable():
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("x")
    ch.exchange_declare(x, "direct", auto_delete=True)
    rf.expect_channel_error(lambda: ch.exchange_declare(x, "fanout", auto_delete=True), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' %s: "
                            "received 'fanout' but current is 'direct'" % (x, V))
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.exchange_declare(x, "direct", durable=True, auto_delete=True), 406,
                            "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' %s: "
                            "received 'true' but current is 'false'" % (x, V))
    conn.channel().exchange_delete(x)


def test_406_ack_unknown_delivery_tag():
    ch = rf.connect().channel()
    ch.basic_ack(42)
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 406,
                            "PRECONDITION_FAILED - unknown delivery tag 42")


def test_406_double_ack():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    m, p, b = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.basic_ack(m.delivery_tag)
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 406,
                            "PRECONDITION_FAILED - unknown delivery tag %d" % m.delivery_tag)


def test_406_reject_and_nack_unknown_tag():
    conn = rf.connect()
    ch = conn.channel()
    ch.basic_reject(7)
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 406,
                            "PRECONDITION_FAILED - unknown delivery tag 7")
    ch = conn.channel()
    ch.basic_nack(9, multiple=True)
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 406,
                            "PRECONDITION_FAILED - unknown delivery tag 9")


def test_406_ack_of_auto_ack_delivery():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    m, p, b = ch.basic_get(q, auto_ack=True)
    ch.basic_ack(m.delivery_tag)
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 406,
                            "PRECONDITION_FAILED - unknown delivery tag %d" % m.delivery_tag)


def test_406_queue_delete_if_empty_and_if_unused():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = ch.queue_declare(rf.uniq("q"), exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    rf.expect_channel_error(lambda: ch.queue_delete(q, if_empty=True), 406,
                            "PRECONDITION_FAILED - queue '%s' %s not empty" % (q, V))
    ch = conn.channel()
    ch.basic_consume(q, lambda *a: None)
    ch2 = conn.channel()
    rf.expect_channel_error(lambda: ch2.queue_delete(q, if_unused=True), 406,
                            "PRECONDITION_FAILED - queue '%s' %s in use" % (q, V))


def test_406_exchange_delete_if_unused():
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("x")
    ch.exchange_declare(x, "direct")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "k")
    rf.expect_channel_error(lambda: ch.exchange_delete(x, if_unused=True), 406,
                            "PRECONDITION_FAILED - exchange '%s' %s in use" % (x, V))
    conn.channel().exchange_delete(x)


# ------------------------------------------------------------ connection-level errors

def test_530_unknown_vhost():
    try:
        rf.connect(virtual_host="no-such-vhost")
        raise AssertionError("connection to an unknown vhost succeeded")
    except pe.ProbableAccessDeniedError as e:
        assert "(530)" in str(e) and "NOT_ALLOWED - vhost no-such-vhost not found" in str(e), str(e)


def test_530_unknown_vhost_raw():
    with raw.RawConnection(rf.port()) as c:
        c.send(raw.PROTOCOL_HEADER)
        c.expect_method(0, raw.CONNECTION_START)
        c.send_method(0, raw.CONNECTION_START_OK, raw.table([]) + raw.shortstr("PLAIN")
                      + raw.longstr(b"\x00guest\x00guest") + raw.shortstr("en_US"))
        c.expect_method(0, raw.CONNECTION_TUNE)
        c.send_method(0, raw.CONNECTION_TUNE_OK, struct.pack(">HIH", 2047, 131072, 0))
        c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr("nope") + raw.shortstr("") + raw.bits(False))
        code, text, cls, mid = c.expect_connection_close()
        rf.check_reply(code, text, 530, "NOT_ALLOWED - vhost nope not found")
        rf.eq((cls, mid), (10, 40))
        c.send_close_ok()
        c.expect_eof()


def test_530_reuse_consumer_tag():
    # pika refuses a duplicate tag client-side; check the server with the raw client
    q = rf.uniq("q")
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        c.send_method(1, raw.BASIC_CONSUME, raw.basic_consume_args(q, "dup"))
        c.expect_method(1, raw.BASIC_CONSUME_OK)
        c.send_method(1, raw.BASIC_CONSUME, raw.basic_consume_args(q, "dup"))
        code, text, cls, mid = c.expect_connection_close()
        rf.check_reply(code, text, 530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'")
        rf.eq((cls, mid), (60, 20))
        c.send_close_ok()
        c.expect_eof()


def test_503_unknown_exchange_type_closes_connection():
    # RabbitMQ says "invalid exchange type" only for names that happen to be existing Erlang
    # atoms (e.g. 'foo'); any made-up name gets "unknown exchange type".
    conn = rf.connect()
    ch = conn.channel()
    kind = "no-such-type-" + rf.uniq("t").rsplit(".", 1)[1]
    rf.expect_connection_error(lambda: ch.exchange_declare(rf.uniq("x"), kind), 503,
                               "COMMAND_INVALID - unknown exchange type '%s'" % kind)
    assert not conn.is_open


def test_540_prefetch_size_not_implemented():
    conn = rf.connect()
    ch = conn.channel()
    rf.expect_connection_error(lambda: ch.basic_qos(prefetch_size=1000), 540,
                               "NOT_IMPLEMENTED - prefetch_size!=0 (1000)")


def test_540_immediate_publish():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", "q", immediate=True))
               + raw.header_frame(1, 1) + raw.body_frame(1, b"x"))
        code, text, cls, mid = c.expect_connection_close()
        rf.check_reply(code, text, 540, "NOT_IMPLEMENTED - immediate=true")
        rf.eq((cls, mid), (60, 40))
        c.send_close_ok()
        c.expect_eof()


def test_504_method_on_unopened_channel():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.send_method(3, raw.QUEUE_DECLARE, raw.queue_declare_args(rf.uniq("q")))
        code, text, cls, mid = c.expect_connection_close()
        rf.check_reply(code, text, 504, "CHANNEL_ERROR - expected 'channel.open'")
        rf.eq((cls, mid), (50, 10))
        c.send_close_ok()
        c.expect_eof()


def test_channel_error_close_ok_and_reuse_channel_number():
    # After channel.close from the server and channel.close-ok from us, the number is free again.
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        missing = rf.uniq("missing")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(missing, passive=True))
        args = c.expect_method(1, raw.CHANNEL_CLOSE)
        code, text, cls, mid = raw.parse_close(args)
        rf.check_reply(code, text, 404, no_queue(missing))
        rf.eq((cls, mid), (50, 10))
        c.send_method(1, raw.CHANNEL_CLOSE_OK)
        c.open_channel(1)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args("", exclusive=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)


def test_frames_after_channel_close_are_ignored_until_close_ok():
    # RabbitMQ drops everything but channel.close(-ok) on a closing channel.
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(1)
        missing = rf.uniq("missing")
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(missing, passive=True))
        c.expect_method(1, raw.CHANNEL_CLOSE)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args("", exclusive=True))
        c.publish(1, "", "x", b"dropped")
        c.send_method(1, raw.CHANNEL_CLOSE_OK)
        c.open_channel(2)  # the next thing we see is channel 2's open-ok, nothing for channel 1


def test_client_channel_close_gets_close_ok():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        c.open_channel(5)
        c.send_method(5, raw.CHANNEL_CLOSE, struct.pack(">H", 200) + raw.shortstr("bye") + struct.pack(">HH", 0, 0))
        c.expect_method(5, raw.CHANNEL_CLOSE_OK)
        c.send_method(0, raw.CONNECTION_CLOSE, struct.pack(">H", 200) + raw.shortstr("bye") + struct.pack(">HH", 0, 0))
        c.expect_method(0, raw.CONNECTION_CLOSE_OK)
        # (the client closes the socket; RabbitMQ itself only closes it after 30 s)


if __name__ == "__main__":
    rf.main()
