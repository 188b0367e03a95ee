#!/usr/bin/python3
"""Priority queues (x-max-priority) with pika, as RabbitMQ's: messages are delivered highest
`priority` property first, in arrival order within one priority; a message without the
property counts as 0 and one above the queue's maximum as the maximum; a rejected message
goes back to its place within its priority. Roost keeps this through paging (a tiny
--queue-window) and a restart. Argument texts as RabbitMQ 3.10's: a value over 255 is
{max_value_exceeded,N}, a negative one {value_negative,N}, another type "expected integer"."""
import pika

import roost_fixture as rf

WINDOW = 20


def priority_queue(ch, levels=10, durable=False, name=None):
    return ch.queue_declare(name or rf.uniq("prio"), durable=durable,
                            arguments={"x-max-priority": levels}).method.queue


def publish(ch, q, body, priority=None, persistent=False):
    ch.basic_publish("", q, body, pika.BasicProperties(priority=priority, delivery_mode=2 if persistent else 1))


def get_all(ch, q):
    return [(body, props.priority) for body, props in rf.drain_bodies(ch, q)]


def expected_order(published, levels):
    """published: (body, priority) in publish order -> the order RabbitMQ delivers them in."""
    rank = lambda p: min(p or 0, levels)  # noqa: E731
    return sorted(published, key=lambda bp: -rank(bp[1]))  # stable: arrival order within a priority


def mixed(n):
    return [(b"m%d" % i, None if i % 7 == 0 else (i * 5) % 13) for i in range(n)]


def test_highest_priority_first_and_fifo_within_a_priority():
    ch = rf.connect().channel()
    q = priority_queue(ch, levels=10)
    published = mixed(40) + [(b"over", 200), (b"zero", 0)]
    for body, p in published:
        publish(ch, q, body, p)
    rf.wait_message_count(ch, q, len(published))
    rf.eq(get_all(ch, q), expected_order(published, 10))


def test_consumer_receives_in_priority_order():
    conn = rf.connect()
    ch = conn.channel()
    q = priority_queue(ch, levels=5)
    published = [(b"a", 1), (b"b", 5), (b"c", None), (b"d", 3), (b"e", 5)]
    for body, p in published:
        publish(ch, q, body, p)
    got = []
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, lambda c, m, p, body: (got.append(body), c.basic_ack(m.delivery_tag)))
    rf.wait_until(conn, lambda: len(got) == 5, 5, "five deliveries")
    rf.eq(got, [b"b", b"e", b"d", b"a", b"c"])


def test_a_rejected_message_returns_to_its_place_in_its_priority():
    ch = rf.connect().channel()
    q = priority_queue(ch, levels=3)
    for body, p in ((b"x3", 3), (b"y1", 1), (b"z3", 3)):
        publish(ch, q, body, p)
    m, _, body = ch.basic_get(q)
    rf.eq(body, b"x3")
    publish(ch, q, b"w2", 2)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, body = ch.basic_get(q, auto_ack=True)
    rf.eq((body, m.redelivered), (b"x3", True))
    rf.eq([b for b, _ in get_all(ch, q)], [b"z3", b"w2", b"y1"])


def test_expiry_and_purge_in_a_priority_queue():
    conn = rf.connect()
    ch = conn.channel()
    q = priority_queue(ch, levels=9)
    # RabbitMQ 3.10 still delivers the expired message from a priority queue (checked with
    # run_against_rabbitmq.sh); Roost removes it within milliseconds and never delivers it.
    if not rf.external():
        publish(ch, q, b"stays", 1)
        ch.basic_publish("", q, b"short", pika.BasicProperties(priority=9, expiration="30"))
        rf.wait_message_count(ch, q, 1)
        rf.eq(get_all(ch, q), [(b"stays", 1)])
    for body, p in mixed(10):
        publish(ch, q, body, p)
    rf.wait_message_count(ch, q, 10)
    rf.eq(ch.queue_purge(q).method.message_count, 10)
    rf.eq(get_all(ch, q), [])


def test_drop_head_drops_the_highest_priority_head_as_rabbitmq_does():
    ch = rf.connect().channel()
    q = ch.queue_declare(rf.uniq("bounded"), arguments={"x-max-priority": 5, "x-max-length": 2}).method.queue
    for body, p in ((b"low", 1), (b"high", 5), (b"mid", 3)):
        publish(ch, q, body, p)
    rf.wait_message_count(ch, q, 2)
    rf.eq([body for body, _ in get_all(ch, q)], [b"mid", b"low"])


def test_arguments_are_checked_as_rabbitmq_does():
    conn = rf.connect()
    for value, detail in ((256, "{max_value_exceeded,256}"), (-1, "{value_negative,-1}"),
                          ("ten", '"expected integer, got longstr"')):
        name = rf.uniq("bad")
        rf.expect_channel_error(
            lambda: conn.channel().queue_declare(name, arguments={"x-max-priority": value}), 406,
            "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '%s' in vhost '/': %s" % (name, detail))
    ch = conn.channel()
    q = priority_queue(ch, levels=255)
    rf.expect_channel_error(
        lambda: conn.channel().queue_declare(q, arguments={"x-max-priority": 4}), 406,
        "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue '%s' in vhost '/': "
        "received '4' but current is '255'" % q)


def test_priorities_hold_while_paging_and_after_a_restart():
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    ch = rf.connect(port=b.port).channel()
    transient = priority_queue(ch, levels=4)
    durable = priority_queue(ch, levels=4, durable=True)
    published = mixed(400)
    for body, p in published:
        publish(ch, transient, body, p)
        publish(ch, durable, body, p, persistent=True)
    rf.eq(get_all(ch, transient), expected_order(published, 4))
    # Half of the durable queue is consumed before the restart; the rest comes back in order.
    order = expected_order(published, 4)
    for want in order[:200]:
        m, props, body = ch.basic_get(durable, auto_ack=True)
        rf.eq((body, props.priority), want)
    b = rf.restart_broker(b)
    ch = rf.connect(port=b.port).channel()
    rf.eq(ch.queue_declare(durable, passive=True).method.message_count, 200)
    later = [(b"late-%d" % i, i % 5) for i in range(30)]
    for body, p in later:
        publish(ch, durable, body, p, persistent=True)
    rf.eq(get_all(ch, durable), expected_order(order[200:] + later, 4))


if __name__ == "__main__":
    rf.main()
