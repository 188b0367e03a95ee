#!/usr/bin/python3
"""Work queues with pika: competing consumers, manual acks, round-robin dispatch."""
import threading
import time

import pika

import roost_fixture as rf


def _publish_confirmed(ch, queue, bodies, properties=None):
    ch.confirm_delivery()
    for b in bodies:
        ch.basic_publish("", queue, b, properties=properties)


def test_three_competing_consumers_3000_messages():
    n = 3000
    q = rf.uniq("work")
    setup = rf.connect().channel()
    setup.queue_declare(q, auto_delete=False)

    consumers = []
    for i in range(3):
        conn = rf.connect()
        ch = conn.channel()
        ch.basic_qos(prefetch_count=20)
        got = []

        def on_msg(chan, method, props, body, got=got):
            assert not method.redelivered, "unexpected redelivery of %r" % body
            got.append(body)
            chan.basic_ack(method.delivery_tag)

        tag = ch.basic_consume(q, on_msg, auto_ack=False)
        consumers.append((conn, ch, got, tag))

    pub_conn = rf.connect()
    pub = pub_conn.channel()
    bodies = [b"job-%05d" % i for i in range(n)]
    _publish_confirmed(pub, q, bodies, pika.BasicProperties(delivery_mode=1))

    # one thread per consumer connection (a pika connection is only used by its own thread)
    stop = threading.Event()
    errors = []

    def pump(conn):
        try:
            while not stop.is_set():
                conn.process_data_events(time_limit=0.05)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=pump, args=(c[0],), daemon=True) for c in consumers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(len(c[2]) for c in consumers) < n and not errors and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a counter, not synchronising with the broker
    time.sleep(0.2)  # give any (wrong) extra deliveries a chance to show up
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, "consumer thread failed: %r" % errors
    assert sum(len(c[2]) for c in consumers) >= n, \
        "only %d of %d delivered" % (sum(len(c[2]) for c in consumers), n)

    everything = [b for c in consumers for b in c[2]]
    rf.eq(len(everything), n, "total deliveries")
    rf.eq(len(set(everything)), n, "distinct bodies (duplicates?)")
    rf.eq(set(everything), set(bodies), "delivered set")
    counts = [len(c[2]) for c in consumers]
    print("#   per-consumer counts: %r" % counts)
    for i, c in enumerate(consumers):
        assert len(c[2]) >= n // 20, "consumer %d got only %d of %d (counts %r)" % (i, len(c[2]), n, counts)
        # a single publisher and no requeues: each consumer sees its share in publish order
        rf.eq(c[2], sorted(c[2]), "consumer %d order" % i)

    ok = setup.queue_declare(q, passive=True)
    rf.eq(ok.method.message_count, 0, "ready messages left")
    rf.eq(ok.method.consumer_count, 3, "consumer count")
    setup.queue_delete(q)


def test_round_robin_is_strict_with_unlimited_prefetch():
    # RabbitMQ hands out deliveries to ready consumers strictly in turn.
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("rr")
    ch.queue_declare(q, exclusive=True)
    got = {0: [], 1: [], 2: []}
    for i in range(3):
        ch.basic_consume(q, lambda c, m, p, b, i=i: got[i].append(b), auto_ack=True, consumer_tag="c%d" % i)
    pub = rf.connect().channel()
    _publish_confirmed(pub, q, [b"%02d" % i for i in range(30)])
    rf.wait_until(conn, lambda: sum(len(v) for v in got.values()) == 30, what="30 deliveries")
    rf.drain(conn, 0.2)
    for i in range(3):
        rf.eq(got[i], [b"%02d" % j for j in range(i, 30, 3)], "consumer %d" % i)


def test_prefetch_one_fair_dispatch():
    # prefetch=1: a consumer that holds its message gets nothing more; the other takes the rest.
    q = rf.uniq("fair")
    conn = rf.connect()
    slow = conn.channel()
    fast = conn.channel()
    slow.queue_declare(q, exclusive=True)
    slow.basic_qos(prefetch_count=1)
    fast.basic_qos(prefetch_count=1)
    slow_got, fast_got = [], []
    slow.basic_consume(q, lambda c, m, p, b: slow_got.append(m.delivery_tag))  # never acks
    fast.basic_consume(q, lambda c, m, p, b: (fast_got.append(b), c.basic_ack(m.delivery_tag)))
    pub = rf.connect().channel()
    _publish_confirmed(pub, q, [b"m%d" % i for i in range(10)])
    rf.wait_until(conn, lambda: len(slow_got) + len(fast_got) == 10, what="10 deliveries")
    rf.drain(conn, 0.3)
    rf.eq(len(slow_got), 1, "slow consumer deliveries")
    rf.eq(len(fast_got), 9, "fast consumer deliveries")


def test_unacked_messages_go_to_other_consumer_when_consumer_dies():
    q = rf.uniq("die")
    setup = rf.connect().channel()
    setup.queue_declare(q, auto_delete=False)
    _publish_confirmed(setup, q, [b"a", b"b", b"c"])

    dying_conn = rf.connect()
    dying = dying_conn.channel()
    taken = []
    dying.basic_consume(q, lambda c, m, p, b: taken.append(b))  # takes all three, acks nothing
    rf.wait_until(dying_conn, lambda: len(taken) == 3, what="3 deliveries to first consumer")
    dying_conn.close()

    conn = rf.connect()
    ch = conn.channel()
    got = []
    ch.basic_consume(q, lambda c, m, p, b: (got.append((b, m.redelivered)), c.basic_ack(m.delivery_tag)))
    rf.wait_until(conn, lambda: len(got) == 3, what="3 redeliveries")
    rf.eq(got, [(b"a", True), (b"b", True), (b"c", True)])
    setup.queue_delete(q)


def test_message_count_and_consumer_count():
    q = rf.uniq("count")
    conn = rf.connect()
    ch = conn.channel()
    ok = ch.queue_declare(q, exclusive=True)
    rf.eq((ok.method.queue, ok.method.message_count, ok.method.consumer_count), (q, 0, 0))
    _publish_confirmed(ch, q, [b"x"] * 7)
    ok = ch.queue_declare(q, passive=True)
    rf.eq((ok.method.message_count, ok.method.consumer_count), (7, 0))
    ch2 = conn.channel()
    ch2.basic_qos(prefetch_count=2)
    ch2.basic_consume(q, lambda c, m, p, b: None)
    rf.drain(conn, 0.3)
    ok = ch.queue_declare(q, passive=True)
    # message_count counts ready messages only (2 are delivered-unacked)
    rf.eq((ok.method.message_count, ok.method.consumer_count), (5, 1))
    purged = ch.queue_purge(q)
    rf.eq(purged.method.message_count, 5, "purge count")
    deleted = ch.queue_delete(q)
    rf.eq(deleted.method.message_count, 0, "delete count")


if __name__ == "__main__":
    rf.main()
