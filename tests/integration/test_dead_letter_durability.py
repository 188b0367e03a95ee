#!/usr/bin/python3
"""Dead-lettering, TTL and delivery counts across restarts and crashes (pika, own brokers).

- A persistent message dead-lettered from a durable queue to a durable queue is in exactly
  one of them after a graceful restart or a SIGKILL at any moment: the source entry's
  removal and the dead-letter entry are one store transaction (RabbitMQ can lose or
  duplicate messages in between; Roost does neither).
- Persistent messages whose TTL passes while the broker is down are dead-lettered (or
  dropped) as it starts, before any client sees them.
- Paged-out messages (a tiny --queue-window) expire on time too, dead-lettered with their
  content or removed, and counts exclude them at once; after a restart as well, where the
  whole deep queue also counts towards x-max-length-bytes at once.
- The delivery count of x-delivery-limit survives a restart.
"""
import time

import pika
import pika.exceptions as pe

import roost_fixture as rf

PERSISTENT = pika.BasicProperties(delivery_mode=2)


def durable_pair(ch, args=None):
    src, target = rf.uniq("src"), rf.uniq("target")
    ch.queue_declare(target, durable=True)
    a = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": target}
    a.update(args or {})
    ch.queue_declare(src, durable=True, arguments=a)
    return src, target


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def test_dead_lettered_persistent_message_survives_restart():
    b = rf.start_broker()
    ch = rf.connect(port=b.port).channel()
    src, target = durable_pair(ch)
    ch.basic_publish("", src, b"keep-me", PERSISTENT)
    m, _, _ = rf.get_eventually(ch, src)
    ch.basic_reject(m.delivery_tag, requeue=False)
    rf.wait_message_count(ch, target, 1)
    b = rf.restart_broker(b)
    ch = rf.connect(port=b.port).channel()
    rf.eq(count(ch, src), 0)
    got = rf.drain_bodies(ch, target)
    rf.eq([body for body, _ in got], [b"keep-me"])
    p = got[0][1]
    rf.eq(p.delivery_mode, 2)
    rf.eq(p.headers["x-death"][0]["reason"], "rejected")
    rf.eq(p.headers["x-death"][0]["queue"], src)


@rf.timeout(120)
def test_sigkill_while_dead_lettering_loses_and_duplicates_nothing():
    n = 400
    for round_ in range(3):
        b = rf.start_broker()
        conn = rf.connect(port=b.port)
        ch = conn.channel()
        src, target = durable_pair(ch)
        ch.confirm_delivery()
        for i in range(n):
            ch.basic_publish("", src, b"m%04d" % i, PERSISTENT)
        ch2 = conn.channel()
        ch2.basic_qos(prefetch_count=50)
        rejected = []

        def on_msg(c, m, p, body):
            c.basic_reject(m.delivery_tag, requeue=False)
            rejected.append(body)
        ch2.basic_consume(src, on_msg)
        # kill at a different point each round, mid-stream
        rf.wait_until(conn, lambda: len(rejected) >= n * (round_ + 1) // 4, what="rejections under way")
        b = rf.restart_broker(b, kill=True)
        ch = rf.connect(port=b.port).channel()
        left = [body for body, _ in rf.drain_bodies(ch, src)]
        moved = [body for body, p in rf.drain_bodies(ch, target)]
        both = sorted(left + moved)
        rf.eq(len(both), n, "messages after the crash (src %d + target %d)" % (len(left), len(moved)))
        rf.eq(both, [b"m%04d" % i for i in range(n)], "every message exactly once")
        rf.stop_broker_clean(b)


def test_ttl_passing_while_down_dead_letters_at_start():
    b = rf.start_broker()
    ch = rf.connect(port=b.port).channel()
    src, target = durable_pair(ch, {"x-message-ttl": 300})
    for i in range(5):
        ch.basic_publish("", src, b"t%d" % i, PERSISTENT)
    never = rf.uniq("plain")
    ch.queue_declare(never, durable=True)
    ch.basic_publish("", never, b"short", pika.BasicProperties(delivery_mode=2, expiration="300"))
    ch.basic_publish("", never, b"long", pika.BasicProperties(delivery_mode=2, expiration="600000"))
    rf.stop_broker_clean(b)
    time.sleep(0.5)
    b = rf.start_broker(data_dir=b.data_dir)
    ch = rf.connect(port=b.port).channel()
    rf.eq(count(ch, src), 0)
    rf.eq(count(ch, never), 1)
    got = rf.drain_bodies(ch, target)
    rf.eq([body for body, _ in got], [b"t%d" % i for i in range(5)])
    rf.eq(got[0][1].headers["x-death"][0]["reason"], "expired")
    rf.eq([body for body, _ in rf.drain_bodies(ch, never)], [b"long"])


def test_paged_out_messages_expire_on_time():
    b = rf.start_broker(extra_args=["--queue-window", "10"])
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    ch.confirm_delivery()
    target = rf.uniq("expired")
    ch.queue_declare(target)
    deep = rf.uniq("deep")
    ch.queue_declare(deep, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": target})
    dropped = rf.uniq("deep-nodlx")
    ch.queue_declare(dropped, durable=True)
    ch.basic_publish("", deep, b"head", pika.BasicProperties(expiration="600000"))
    ch.basic_publish("", dropped, b"head", pika.BasicProperties(expiration="600000", delivery_mode=2))
    ttl = 5.0  # usually longer than publishing 200 confirmed messages takes
    start = time.monotonic()
    for i in range(100):
        ch.basic_publish("", deep, b"p%03d" % i, pika.BasicProperties(expiration=str(int(ttl * 1000))))
        ch.basic_publish("", dropped, b"p%03d" % i,
                         pika.BasicProperties(expiration=str(int(ttl * 1000)), delivery_mode=2))
    published = time.monotonic()
    counts = (count(ch, deep), count(ch, dropped))
    if time.monotonic() - start < ttl:  # on a machine too busy for that, some may rightly be gone already
        rf.eq(counts, (101, 101))
    # the last message expires TTL after its publish; the slack is for a loaded machine
    deadline = published + ttl + 3.0
    while (count(ch, deep), count(ch, dropped)) != (1, 1):
        assert time.monotonic() < deadline, "counts %r after the TTL" % ((count(ch, deep), count(ch, dropped)),)
        time.sleep(0.02)
    rf.wait_message_count(ch, target, 100)
    bodies = [body for body, _ in rf.drain_bodies(ch, target)]
    rf.eq(sorted(bodies), sorted(b"p%03d" % i for i in range(100)))
    rf.eq([body for body, _ in rf.drain_bodies(ch, deep)], [b"head"])
    rf.eq([body for body, _ in rf.drain_bodies(ch, dropped)], [b"head"])
    # the expired entries are gone from the store too
    b = rf.restart_broker(b, extra_args=["--queue-window", "10"])
    ch = rf.connect(port=b.port).channel()
    rf.eq(count(ch, dropped), 0)


def test_a_restarted_deep_queue_expires_and_limits_beyond_its_window():
    window = ["--queue-window", "10"]
    b = rf.start_broker(extra_args=window)
    ch = rf.connect(port=b.port).channel()
    ch.confirm_delivery()
    deep, target = durable_pair(ch)
    bounded = rf.uniq("bounded")
    ch.queue_declare(bounded, durable=True, arguments={"x-max-length-bytes": 1000, "x-overflow": "reject-publish"})
    ttl = 8.0  # usually longer than publishing and a restart take
    start = time.monotonic()
    ch.basic_publish("", deep, b"head", PERSISTENT)
    for i in range(50):
        ch.basic_publish("", deep, b"p%03d" % i, pika.BasicProperties(delivery_mode=2, expiration=str(int(ttl * 1000))))
    for i in range(90):
        ch.basic_publish("", bounded, b"ten bytes!", PERSISTENT)
    b = rf.restart_broker(b, extra_args=window)
    ch = rf.connect(port=b.port).channel()
    ch.confirm_delivery()
    restarted = time.monotonic()
    deep_count = count(ch, deep)
    if time.monotonic() - start < ttl:  # on a machine too busy for that, some may rightly be gone already
        rf.eq(deep_count, 51)
    # only the first window is in memory; the limit still sees all 900 bytes
    for i in range(10):
        ch.basic_publish("", bounded, b"ten bytes!", PERSISTENT)
    try:
        ch.basic_publish("", bounded, b"ten bytes!", PERSISTENT)
        raise AssertionError("the 1,001st byte was accepted")
    except pe.NackError:
        pass
    rf.eq(count(ch, bounded), 100)
    deadline = max(start + ttl, restarted) + 2.0
    while count(ch, deep) != 1:
        assert time.monotonic() < deadline, "%d messages left in %s after the TTL" % (count(ch, deep), deep)
        time.sleep(0.02)
    rf.wait_message_count(ch, target, 50)
    rf.eq(sorted(body for body, _ in rf.drain_bodies(ch, target)), [b"p%03d" % i for i in range(50)])
    rf.eq([body for body, _ in rf.drain_bodies(ch, deep)], [b"head"])


def test_delivery_count_survives_restart():
    b = rf.start_broker()
    ch = rf.connect(port=b.port).channel()
    src, target = durable_pair(ch, {"x-delivery-limit": 2})
    ch.basic_publish("", src, b"poison", PERSISTENT)
    for _ in range(2):
        m, _, _ = rf.get_eventually(ch, src)
        ch.basic_reject(m.delivery_tag, requeue=True)
    b = rf.restart_broker(b)
    ch = rf.connect(port=b.port).channel()
    m, p, _ = rf.get_eventually(ch, src)
    assert m is not None
    rf.eq(p.headers.get("x-delivery-count"), 2)
    ch.basic_reject(m.delivery_tag, requeue=True)
    rf.wait_message_count(ch, target, 1)
    rf.eq(count(ch, src), 0)


if __name__ == "__main__":
    rf.main(file_broker=False)
