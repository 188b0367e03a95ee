#!/usr/bin/python3
"""x-single-active-consumer with pika (RabbitMQ 3.8+ semantics, texts checked against a private
RabbitMQ 3.10.8 node): of the consumers on such a queue only the first one attached receives;
when it is cancelled (or its channel closes) the next one in attach order takes over, with the
messages the first left unacked; a non-bool value is 406 "invalid arg ... {unacceptable_type,
<type>}"; redeclaring with another value is 406 inequivalent arg."""
import pika

import roost_fixture as rf


def sac_queue(ch):
    return ch.queue_declare(rf.uniq("sac"), arguments={"x-single-active-consumer": True}).method.queue


def test_only_the_first_consumer_receives_until_it_goes():
    conn = rf.connect()
    ch = conn.channel()
    q = sac_queue(ch)
    got = {"a": [], "b": []}
    ta = ch.basic_consume(q, lambda c, m, p, b: got["a"].append(b), auto_ack=True)
    ch.basic_consume(q, lambda c, m, p, b: got["b"].append(b), auto_ack=True)
    for i in range(6):
        ch.basic_publish("", q, b"%d" % i)
    rf.wait_until(conn, lambda: len(got["a"]) == 6, 5, "6 deliveries to the active consumer")
    rf.eq(got["b"], [], "the standby consumer")
    rf.eq(ch.queue_declare(q, passive=True).method.consumer_count, 2)
    ch.basic_cancel(ta)
    for i in range(6, 9):
        ch.basic_publish("", q, b"%d" % i)
    rf.wait_until(conn, lambda: len(got["b"]) == 3, 5, "the standby took over")
    rf.eq(got["b"], [b"6", b"7", b"8"])


def test_unacked_messages_of_the_active_consumer_go_to_the_next_one():
    conn = rf.connect()
    first = conn.channel()
    q = sac_queue(first)
    first.basic_qos(prefetch_count=2)
    held = []
    first.basic_consume(q, lambda c, m, p, b: held.append(b))  # manual ack, never acks
    second = rf.connect()
    sch = second.channel()
    got = []
    sch.basic_consume(q, lambda c, m, p, b: got.append((b, m.redelivered)), auto_ack=True)
    for i in range(4):
        first.basic_publish("", q, b"%d" % i)
    rf.wait_until(conn, lambda: len(held) == 2, 5, "prefetch-limited deliveries")
    rf.drain(second, 0.2)
    rf.eq(got, [], "the standby waits even while the active consumer is out of credit")
    first.close()
    rf.wait_until(second, lambda: len(got) == 4, 5, "all four at the next consumer")
    rf.eq(got, [(b"0", True), (b"1", True), (b"2", False), (b"3", False)])


def test_argument_type_and_equivalence():
    conn = rf.connect()
    for value, kind in (("yes", "longstr"), (1, "signedint")):
        name = rf.uniq("bad")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, arguments={"x-single-active-consumer": value}), 406,
            "PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue '%s' in vhost '/': "
            "{unacceptable_type,%s}" % (name, kind))
    ch = conn.channel()
    q = sac_queue(ch)
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(q, arguments={"x-single-active-consumer": False}), 406,
        "PRECONDITION_FAILED - inequivalent arg 'x-single-active-consumer' for queue '%s' in vhost '/': "
        "received 'false' but current is 'true'" % q)
    # A plain queue shares round-robin, as before.
    plain = ch.queue_declare(rf.uniq("plain"), arguments={"x-single-active-consumer": False}).method.queue
    got = {"a": 0, "b": 0}
    ch.basic_consume(plain, lambda c, m, p, b: got.__setitem__("a", got["a"] + 1), auto_ack=True)
    ch.basic_consume(plain, lambda c, m, p, b: got.__setitem__("b", got["b"] + 1), auto_ack=True)
    for i in range(10):
        ch.basic_publish("", plain, b"x")
    rf.wait_until(conn, lambda: got["a"] + got["b"] == 10, 5, "10 deliveries")
    rf.eq(got, {"a": 5, "b": 5})


if __name__ == "__main__":
    rf.main()
