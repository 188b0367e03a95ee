#!/usr/bin/python3
"""Message TTL with pika: x-message-ttl on the queue, the per-message expiration property
(the lower wins), dead-lettering with reason `expired`, the TTL + DLX delay-queue pattern,
RabbitMQ's cycle rule, and the publish-time check of `expiration`.

Roost goes further than RabbitMQ 3.10 (which only drops expired messages at the head of
the queue): an expired message leaves the queue within ~100 ms of its expiry wherever it
sits, queue counts never include it and it is never delivered. Tests of that are skipped
against RabbitMQ (rf.external()).
"""
import time

import pika
import pika.exceptions as pe

import roost_fixture as rf


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def test_queue_ttl_dead_letters_with_reason_expired():
    conn = rf.connect()
    ch = conn.channel()
    target = rf.uniq("expired")
    ch.queue_declare(target, exclusive=True)
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True, arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "",
                                                     "x-dead-letter-routing-key": target})
    ch.basic_publish("", src, b"a", pika.BasicProperties(expiration="50000"))
    m, p, b = rf.get_eventually(ch, target, auto_ack=True)
    assert m is not None
    rf.eq(b, b"a")
    d = p.headers["x-death"][0]
    rf.eq((d["reason"], d["queue"], d["count"], d["exchange"]), ("expired", src, 1, ""))
    rf.eq(d["routing-keys"], [src])
    rf.eq(d["original-expiration"], "50000")
    rf.eq(p.expiration, None)
    rf.eq(p.headers["x-first-death-reason"], "expired")
    rf.eq(count(ch, src), 0)


def test_message_expiration_lower_than_queue_ttl_wins():
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True, arguments={"x-message-ttl": 60000})
    ch.basic_publish("", src, b"short", pika.BasicProperties(expiration="100"))
    ch.basic_publish("", src, b"long", pika.BasicProperties(expiration="600000"))
    time.sleep(0.3)
    _, _, b = ch.basic_get(src, auto_ack=True)
    rf.eq(b, b"long")
    rf.eq(ch.basic_get(src, auto_ack=True)[0], None)


def test_short_ttl_behind_long_ttl_expires_on_time():
    if rf.external():
        rf.skip("RabbitMQ 3.10 expires messages only at the head of the queue")
    conn = rf.connect()
    ch = conn.channel()
    target = rf.uniq("expired")
    ch.queue_declare(target, exclusive=True)
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True, arguments={"x-dead-letter-exchange": "",
                                                     "x-dead-letter-routing-key": target})
    ch.basic_publish("", src, b"long", pika.BasicProperties(expiration="600000"))
    start = time.monotonic()
    ch.basic_publish("", src, b"short", pika.BasicProperties(expiration="200"))
    got = []
    ch.basic_consume(target, lambda c, m, p, b: got.append((time.monotonic(), b)), auto_ack=True)
    rf.wait_until(conn, lambda: got, timeout=5, what="the short-TTL message dead-lettered")
    took = got[0][0] - start
    rf.eq(got[0][1], b"short")
    assert 0.19 <= took <= 0.45, "dead-lettered after %.3fs, expected ~0.2s" % took
    rf.eq(count(ch, src), 1)


def test_counts_never_include_expired_messages():
    if rf.external():
        rf.skip("RabbitMQ 3.10 counts expired messages until they reach the head")
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True)
    ch.basic_publish("", src, b"keep", pika.BasicProperties(expiration="600000"))
    start = time.monotonic()
    for i in range(50):
        ch.basic_publish("", src, b"x%d" % i, pika.BasicProperties(expiration="1000"))
    published = time.monotonic()
    assert published - start < 1.0, "publishing took longer than the TTL"
    rf.eq(count(ch, src), 51)
    deadline = published + 1.0 + 0.15
    while count(ch, src) != 1:
        assert time.monotonic() < deadline, "still %d ready after the TTL" % count(ch, src)
        time.sleep(0.01)


def test_expired_messages_are_never_delivered():
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True)
    ch.basic_qos(prefetch_count=1)
    ch.basic_publish("", src, b"first")
    ch.basic_publish("", src, b"expires", pika.BasicProperties(expiration="100"))
    ch.basic_publish("", src, b"last")
    got = []
    ch.basic_consume(src, lambda c, m, p, b: got.append((m.delivery_tag, b)))
    rf.wait_until(conn, lambda: got, what="first delivery")
    time.sleep(0.3)  # the second message's TTL passes while the consumer is saturated
    ch.basic_ack(got[0][0])
    rf.wait_until(conn, lambda: len(got) == 2, what="second delivery")
    rf.eq([b for _, b in got], [b"first", b"last"])
    ch.basic_ack(got[1][0])


def test_requeued_message_past_its_ttl_is_not_redelivered():
    conn = rf.connect()
    ch = conn.channel()
    target = rf.uniq("expired")
    ch.queue_declare(target, exclusive=True)
    src = rf.uniq("ttl")
    ch.queue_declare(src, exclusive=True, arguments={"x-message-ttl": 200, "x-dead-letter-exchange": "",
                                                     "x-dead-letter-routing-key": target})
    ch.basic_publish("", src, b"m")
    m, _, _ = ch.basic_get(src)
    time.sleep(0.4)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, p, b = rf.get_eventually(ch, target, auto_ack=True)
    assert m is not None, "expired message dead-lettered"
    rf.eq(p.headers["x-death"][0]["reason"], "expired")
    rf.eq(ch.basic_get(src, auto_ack=True)[0], None)


def test_ttl_zero_delivers_only_to_a_waiting_consumer():
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("ttl0")
    ch.queue_declare(src, exclusive=True, arguments={"x-message-ttl": 0})
    ch.basic_publish("", src, b"nobody")
    time.sleep(0.1)
    rf.eq(ch.basic_get(src, auto_ack=True)[0], None)
    got = []
    ch.basic_consume(src, lambda c, m, p, b: got.append(b), auto_ack=True)
    ch.basic_publish("", src, b"someone")
    rf.wait_until(conn, lambda: got, what="delivery of a TTL 0 message")
    rf.eq(got, [b"someone"])


def test_delay_queue_pattern():
    conn = rf.connect()
    ch = conn.channel()
    work = rf.uniq("work")
    wait = rf.uniq("wait")
    ch.queue_declare(work, exclusive=True)
    ch.queue_declare(wait, exclusive=True, arguments={"x-message-ttl": 300, "x-dead-letter-exchange": "",
                                                      "x-dead-letter-routing-key": work})
    got = []
    ch.basic_consume(work, lambda c, m, p, b: got.append((time.monotonic(), b)), auto_ack=True)
    start = time.monotonic()
    for i in range(3):
        ch.basic_publish("", wait, b"job%d" % i)
    rf.wait_until(conn, lambda: len(got) == 3, what="delayed jobs")
    rf.eq([b for _, b in got], [b"job0", b"job1", b"job2"])
    for t, _ in got:
        assert t - start >= 0.29, "delivered after %.3fs, before the delay" % (t - start)
        assert t - start < 2.0, "delivered after %.3fs" % (t - start)


def test_retry_loop_with_rejection_is_not_a_cycle():
    conn = rf.connect()
    ch = conn.channel()
    work = rf.uniq("work")
    wait = rf.uniq("retry")
    ch.queue_declare(work, exclusive=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": wait})
    ch.queue_declare(wait, exclusive=True, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "",
                                                      "x-dead-letter-routing-key": work})
    ch.basic_publish("", work, b"job")
    for attempt in range(3):
        m, p, b = rf.get_eventually(ch, work)
        assert m is not None, "attempt %d arrived" % attempt
        if attempt:
            deaths = {(d["queue"], d["reason"]): d["count"] for d in p.headers["x-death"]}
            rf.eq(deaths, {(work, "rejected"): attempt, (wait, "expired"): attempt})
            rf.eq(p.headers["x-death"][0]["queue"], wait)
        ch.basic_reject(m.delivery_tag, requeue=False)


def test_automatic_cycle_is_dropped():
    conn = rf.connect()
    ch = conn.channel()
    src = rf.uniq("cycle")
    ch.queue_declare(src, exclusive=True, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": ""})
    ch.basic_publish("", src, b"x")
    time.sleep(0.3)
    rf.eq(count(ch, src), 0)
    rf.eq(ch.basic_get(src, auto_ack=True)[0], None)
    # two queues expiring into each other: dropped when it would return to the first
    a, b = rf.uniq("ca"), rf.uniq("cb")
    ch.queue_declare(a, exclusive=True, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "",
                                                   "x-dead-letter-routing-key": b})
    ch.queue_declare(b, exclusive=True, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "",
                                                   "x-dead-letter-routing-key": a})
    ch.basic_publish("", a, b"y")
    time.sleep(0.5)
    rf.eq((count(ch, a), count(ch, b)), (0, 0))


def test_invalid_expiration_is_refused_like_rabbitmq():
    conn = rf.connect()
    for exp, detail in [("-1", "{value_negative,-1}"), ("abc", "no_integer"), ("1.5", '{leftover_string,".5"}'),
                        ("", "no_integer")]:
        ch = conn.channel()
        ch.confirm_delivery()
        rf.expect_channel_error(lambda: ch.basic_publish("", "nowhere", b"x", pika.BasicProperties(expiration=exp)),
                                406, "PRECONDITION_FAILED - invalid expiration '%s': %s" % (exp, detail))


if __name__ == "__main__":
    rf.main()
