#!/usr/bin/python3
"""Length limits and the delivery limit with pika.

x-max-length / x-max-length-bytes count ready messages only. x-overflow drop-head (the
default) drops (or dead-letters, reason `maxlen`) the oldest; reject-publish refuses the
publish (a nack in confirm mode); reject-publish-dlx also dead-letters the refused message.
Checked against RabbitMQ 3.10. x-delivery-limit works on every Roost queue (RabbitMQ only on
quorum queues, so those tests are skipped against it): each return counts, redeliveries
carry x-delivery-count, and past the limit the message is dead-lettered with reason
`delivery_limit` (or dropped without a dead-letter exchange).
"""
import time

import pika
import pika.exceptions as pe

import roost_fixture as rf


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def dl_pair(ch, args):
    target = rf.uniq("dead")
    ch.queue_declare(target, exclusive=True)
    src = rf.uniq("limited")
    args = dict(args, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": target})
    ch.queue_declare(src, exclusive=True, arguments=args)
    return src, target


def test_max_length_drops_head_and_dead_letters_with_maxlen():
    conn = rf.connect()
    ch = conn.channel()
    src, target = dl_pair(ch, {"x-max-length": 2})
    ch.basic_publish("", src, b"1", pika.BasicProperties(expiration="50000"))
    ch.basic_publish("", src, b"2")
    ch.basic_publish("", src, b"3")
    rf.wait_message_count(ch, src, 2)
    m, p, b = rf.get_eventually(ch, target, auto_ack=True)
    rf.eq(b, b"1")
    d = p.headers["x-death"][0]
    rf.eq(list(d.keys()), ["count", "reason", "queue", "time", "exchange", "routing-keys", "original-expiration"])
    rf.eq((d["reason"], d["queue"], d["count"], d["routing-keys"], d["original-expiration"]),
          ("maxlen", src, 1, [src], "50000"))
    rf.eq(p.headers["x-first-death-reason"], "maxlen")
    rf.eq([ch.basic_get(src, auto_ack=True)[2] for _ in range(2)], [b"2", b"3"])


def test_max_length_counts_ready_messages_only():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("limited")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 1})
    ch.basic_publish("", q, b"a")
    m, _, _ = rf.get_eventually(ch, q)  # unacked: not counted
    ch.basic_publish("", q, b"b")
    rf.wait_message_count(ch, q, 1)
    ch.basic_ack(m.delivery_tag)
    rf.eq(ch.basic_get(q, auto_ack=True)[2], b"b")


def test_max_length_bytes_drops_until_it_fits():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("limited")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length-bytes": 10})
    ch.basic_publish("", q, b"aaaaaa")
    ch.basic_publish("", q, b"bbbb")
    ch.basic_publish("", q, b"cc")
    rf.wait_message_count(ch, q, 2)
    rf.eq([ch.basic_get(q, auto_ack=True)[2] for _ in range(2)], [b"bbbb", b"cc"])


def test_max_length_zero_keeps_nothing():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("limited")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 0})
    ch.basic_publish("", q, b"a")
    time.sleep(0.1)
    rf.eq(count(ch, q), 0)


def test_reject_publish_nacks_confirm_mode_publishers():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = rf.uniq("limited")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2", pika.BasicProperties(delivery_mode=2))
    try:
        ch.basic_publish("", q, b"3")
        raise AssertionError("third publish was not nacked")
    except pe.NackError:
        pass
    rf.eq(count(ch, q), 2)
    ch.basic_get(q, auto_ack=True)
    ch.basic_publish("", q, b"4")  # room again
    rf.eq([ch.basic_get(q, auto_ack=True)[2] for _ in range(2)], [b"2", b"4"])


def test_reject_publish_bytes():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q = rf.uniq("limited")
    ch.queue_declare(q, exclusive=True, arguments={"x-max-length-bytes": 5, "x-overflow": "reject-publish"})
    ch.basic_publish("", q, b"abc")
    try:
        ch.basic_publish("", q, b"def")
        raise AssertionError("publish over the byte limit was not nacked")
    except pe.NackError:
        pass
    ch.basic_publish("", q, b"de")
    rf.eq(count(ch, q), 2)


def test_reject_publish_dlx_nacks_and_dead_letters():
    conn = rf.connect()
    ch = conn.channel()
    src, target = dl_pair(ch, {"x-max-length": 1, "x-overflow": "reject-publish-dlx"})
    ch.confirm_delivery()
    ch.basic_publish("", src, b"kept")
    try:
        ch.basic_publish("", src, b"refused")
        raise AssertionError("publish to a full queue was not nacked")
    except pe.NackError:
        pass
    m, p, b = rf.get_eventually(ch, target, auto_ack=True)
    rf.eq(b, b"refused")
    rf.eq(p.headers["x-death"][0]["reason"], "maxlen")
    rf.eq(ch.basic_get(src, auto_ack=True)[2], b"kept")


def test_reject_publish_other_queues_still_get_the_message():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    x = rf.uniq("fan")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    full = rf.uniq("full")
    free = rf.uniq("free")
    ch.queue_declare(full, exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    ch.queue_declare(free, exclusive=True)
    ch.queue_bind(full, x)
    ch.queue_bind(free, x)
    try:
        ch.basic_publish(x, "", b"m")
        raise AssertionError("not nacked")
    except pe.NackError:
        pass
    rf.eq(count(ch, free), 1)


def test_delivery_limit_dead_letters_after_n_redeliveries():
    if rf.external():
        rf.skip("RabbitMQ 3.10 has x-delivery-limit on quorum queues only")
    conn = rf.connect()
    ch = conn.channel()
    src, target = dl_pair(ch, {"x-delivery-limit": 2})
    ch.basic_publish("", src, b"poison", pika.BasicProperties(headers={"k": "v"}))
    seen = []
    for _ in range(3):
        m, p, b = rf.get_eventually(ch, src)
        assert m is not None
        seen.append((m.redelivered, (p.headers or {}).get("x-delivery-count")))
        ch.basic_reject(m.delivery_tag, requeue=True)
    rf.eq(seen, [(False, None), (True, 1), (True, 2)])
    m, p, b = rf.get_eventually(ch, target, auto_ack=True)
    assert m is not None, "dead-lettered after the limit"
    rf.eq(b, b"poison")
    d = p.headers["x-death"][0]
    rf.eq((d["reason"], d["queue"]), ("delivery_limit", src))
    rf.eq(p.headers["k"], "v")
    rf.eq(count(ch, src), 0)


def test_delivery_limit_counts_channel_close_and_drops_without_dlx():
    if rf.external():
        rf.skip("RabbitMQ 3.10 has x-delivery-limit on quorum queues only")
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("limited")
    ch.queue_declare(q, arguments={"x-delivery-limit": 0})
    try:
        ch.basic_publish("", q, b"once")
        c2 = conn.channel()
        m, _, _ = rf.get_eventually(c2, q)
        assert m is not None
        c2.close()  # returned once: over a limit of 0
        rf.wait_message_count(ch, q, 0)
        rf.eq(ch.basic_get(q, auto_ack=True)[0], None)
    finally:
        ch.queue_delete(q)


if __name__ == "__main__":
    rf.main()
