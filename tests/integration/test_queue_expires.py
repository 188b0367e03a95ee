#!/usr/bin/python3
"""x-expires with pika: a queue unused for that many milliseconds (no consumers, no
declare, no basic.get) is deleted, messages and all; consumers keep it alive, and a
redeclare (passive too) or basic.get restarts the clock. Checked against RabbitMQ 3.10.
(So the tests cannot poll with passive declares: they wait past the deadline, then look.)"""
import time

import pika

import roost_fixture as rf


def exists(conn, q):
    ch = conn.channel()
    try:
        ch.queue_declare(q, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        rf.eq(e.reply_code, 404)
        return False
    ch.close()
    return True


def test_unused_queue_is_deleted_with_its_messages():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("expires")
    ch.queue_declare(q, arguments={"x-expires": 500})
    ch.basic_publish("", q, b"x")
    time.sleep(0.3)
    assert exists(conn, q), "gone before x-expires"
    time.sleep(1.0)
    assert not exists(conn, q), "still there 500 ms after x-expires"


def test_consumer_keeps_it_and_cancel_restarts_the_clock():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("expires")
    ch.queue_declare(q, arguments={"x-expires": 200})
    tag = ch.basic_consume(q, lambda *a: None, auto_ack=True)
    rf.drain(conn, 0.5)
    assert exists(conn, q), "deleted while it had a consumer"
    ch.basic_cancel(tag)
    time.sleep(0.8)
    assert not exists(conn, q), "still there 600 ms after x-expires"


def test_get_and_redeclare_restart_the_clock():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("expires")
    ch.queue_declare(q, arguments={"x-expires": 400})
    for _ in range(4):
        time.sleep(0.2)
        ch.basic_get(q)
        time.sleep(0.2)
        ch.queue_declare(q, arguments={"x-expires": 400})
    assert exists(conn, q), "deleted although used every 200 ms"
    time.sleep(1.0)
    assert not exists(conn, q), "still there 600 ms after x-expires"


if __name__ == "__main__":
    rf.main()
