"""Deep queues page out of memory and come back in order.

The broker runs with a tiny --queue-window, so nearly every message lives
only on disk (the durable store for durable queues, the scratch file for the
others) until consumers drain the window. Order, bodies and properties must
be exactly as published, and after a restart only persistent messages of
durable queues remain.
"""
import pika

import roost_fixture as rf

WINDOW = 50
N = 2000


def publish(ch, q, persistent_every=0):
    for i in range(N):
        mode = 2 if persistent_every and i % persistent_every == 0 else 1
        ch.basic_publish("", q, b"body-%d" % i,
                         pika.BasicProperties(delivery_mode=mode, headers={"i": i}, message_id=str(i)))


def drain(ch, q, expected):
    got = []
    for _ in range(expected):
        m, props, body = ch.basic_get(q, auto_ack=True)
        assert m is not None, "queue ran dry after %d of %d" % (len(got), expected)
        assert props.headers == {"i": int(props.message_id)}, props
        got.append(body)
    m, _, _ = ch.basic_get(q, auto_ack=True)
    assert m is None, "more messages than published"
    return got


def test_transient_queue_pages_and_keeps_order():
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    ch = rf.connect(port=b.port).channel()
    q = rf.uniq("page")
    ch.queue_declare(q)
    publish(ch, q)
    rf.eq(ch.queue_declare(q, passive=True).method.message_count, N)
    rf.eq(drain(ch, q, N), [b"body-%d" % i for i in range(N)])


def test_consumer_drains_a_paged_queue_in_order():
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    q = rf.uniq("page")
    ch.queue_declare(q, durable=True)
    publish(ch, q, persistent_every=3)
    got = []
    ch.basic_qos(prefetch_count=10)
    ch.basic_consume(q, lambda c, m, p, body: (got.append(body), c.basic_ack(m.delivery_tag)))
    rf.wait_until(conn, lambda: len(got) == N, 60, "all %d deliveries" % N)
    rf.eq(got, [b"body-%d" % i for i in range(N)])


def test_restart_keeps_only_persistent_messages_of_a_paged_durable_queue():
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    q = rf.uniq("page")
    ch.queue_declare(q, durable=True)
    ch.confirm_delivery()
    publish(ch, q, persistent_every=3)
    conn.close()
    b = rf.restart_broker(b)
    ch = rf.connect(port=b.port).channel()
    persistent = [i for i in range(N) if i % 3 == 0]
    rf.eq(ch.queue_declare(q, durable=True, passive=True).method.message_count, len(persistent))
    rf.eq(drain(ch, q, len(persistent)), [b"body-%d" % i for i in persistent])


if __name__ == "__main__":
    rf.main(file_broker=False)
