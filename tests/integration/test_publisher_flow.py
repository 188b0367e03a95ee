"""Per-queue publisher flow control: a publisher into a queue that backs up
while consumed stops being read (TCP pushes back, the client is told
nothing), and never in a way that stalls traffic.

- A raw-socket publisher that can push ~1M msg/s is held to the pace of a
  pika consumer (ten times slower): the queue depth stays around the
  high-water mark instead of taking in everything at once.
- One pika connection that publishes to and consumes (manual acks) from the
  same queue is never paused for it: its acks are what drain the queue.
- A queue without consumers is filled at full speed, well past the mark.
- Consumers that stop acking stop holding publishers back.

The broker runs with --queue-window 4000: marks 2,000 / 1,000, so a consumer
holds publishers back if it drains 1,000 messages within max_hold (200 ms).
"""
import struct
import threading
import time

import raw_amqp as raw
import roost_fixture as rf

WINDOW = 4000
HIGH_WATER = WINDOW // 2  # publisher_flow::for_window(WINDOW)
BODY = b"0123456789abcdef"


def publishes(q, n):
    one = (raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", q))
           + raw.header_frame(1, len(BODY)) + raw.body_frame(1, BODY))
    return one * n


def passive_count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def connect():
    """A pika connection to a fresh broker with the small window."""
    return rf.connect(port=start().port)


def start():
    return rf.start_broker(extra_args=["--queue-window", str(WINDOW)])


def test_slow_consumer_holds_a_fast_publisher_back():
    n = 40000
    b = start()
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    q = rf.uniq("flow")
    ch.queue_declare(q)
    ch.basic_qos(prefetch_count=50)
    got = [0]

    def on_message(c, m, p, body):
        got[0] += 1
        c.basic_ack(m.delivery_tag)

    ch.basic_consume(q, on_message)
    probe = conn.channel()

    publisher = rf.track(raw.RawConnection(b.port, timeout=60).handshake())
    publisher.open_channel(1)
    sent = []
    # sendall blocks while the broker holds the publisher: that is the point.
    pusher = threading.Thread(target=lambda: (publisher.send(publishes(q, n)), sent.append(True)), daemon=True)
    pusher.start()
    deepest = 0
    deadline = time.monotonic() + 50
    while got[0] < n:
        assert time.monotonic() < deadline, "only %d of %d delivered" % (got[0], n)
        deepest = max(deepest, passive_count(probe, q))
        conn.process_data_events(time_limit=0.02)
    pusher.join(10)
    assert sent, "the publisher's bytes were not all taken"
    # Without flow control the broker takes the whole burst long before pika has
    # consumed a tenth of it. With it, the depth stays near the high-water mark
    # (plus what one read of the publisher's socket held when it crossed, about
    # 1,000 messages here) and never reaches the window (paging).
    assert deepest < WINDOW, "queue grew to %d ready messages" % deepest
    rf.eq(passive_count(probe, q), 0)


def test_a_connection_publishing_to_the_queue_it_consumes_is_not_paused():
    rounds, prefetch = 5000, 5
    conn = connect()
    ch = conn.channel()
    q = rf.uniq("flow")
    ch.queue_declare(q)
    ch.basic_qos(prefetch_count=prefetch)
    got = [0]

    def on_message(c, m, p, body):
        # Each delivery is acked and answered with a new publish, so the
        # queue stays past the high-water mark and every read of this
        # connection holds both acks and publishes.
        got[0] += 1
        c.basic_ack(m.delivery_tag)
        c.basic_publish("", q, BODY)

    ch.basic_consume(q, on_message)
    # Past the high-water mark first (pika hands deliveries to the callback
    # only while processing events, so nothing is acked meanwhile).
    for _ in range(HIGH_WATER + 2000):
        ch.basic_publish("", q, BODY)
    # Were this connection paused for the queue, its acks would wait too: no
    # progress until the hold ran out.
    rf.wait_until(conn, lambda: got[0] >= rounds, 20, "%d deliveries" % rounds)


def test_a_queue_without_consumers_fills_past_the_mark():
    n = 5 * HIGH_WATER
    publisher = rf.track(raw.RawConnection(start().port, timeout=30).handshake())
    publisher.open_channel(1)
    q = rf.uniq("flow")
    publisher.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q))
    publisher.expect_method(1, raw.QUEUE_DECLARE_OK)
    publisher.send(publishes(q, n))
    # Answered once the broker has read every publish before it.
    publisher.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, passive=True))
    args = publisher.expect_method(1, raw.QUEUE_DECLARE_OK)
    rf.eq(struct.unpack_from(">I", args, 1 + args[0])[0], n)


@rf.timeout(30)
def test_consumers_that_stop_acking_stop_holding_publishers_back():
    n = 3 * HIGH_WATER
    q = rf.uniq("flow")
    b = start()
    stuck = rf.connect(port=b.port)
    sch = stuck.channel()
    sch.queue_declare(q)
    sch.basic_qos(prefetch_count=1)
    sch.basic_consume(q, lambda c, m, p, body: None)  # takes one, never acks
    publisher = rf.connect(port=b.port)
    pch = publisher.channel()
    for _ in range(n):
        pch.basic_publish("", q, BODY)
    # The broker read all of them (a held publisher would wait here until the test timed out).
    rf.eq(passive_count(pch, q), n - 1)


if __name__ == "__main__":
    rf.main(file_broker=False)
