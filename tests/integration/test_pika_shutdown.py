#!/usr/bin/python3
"""Graceful shutdown: on SIGTERM the broker sends connection.close 320 CONNECTION_FORCED to
every client and exits 0.  The shutdown test starts (and stops) a broker of its own, so the
file's broker serves every test and the tests run in any order; it is skipped with
ROOST_EXTERNAL_PORT."""
import time

import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

SHUTDOWN_TEXT = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"


def test_broker_serves_a_publish_and_a_get():
    ch = rf.connect().channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    m, p, b = ch.basic_get(q, auto_ack=True)
    rf.eq(b, b"x")


def test_sigterm_closes_every_connection_with_320_and_exits_0():
    if rf.external():
        rf.skip("cannot send SIGTERM to an external broker")
    b = rf.start_broker()
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_consume(q, lambda *a: None)
    idle = rf.connect(port=b.port)
    raws = []
    for _ in range(3):
        c = rf.track(raw.RawConnection(b.port, timeout=10))
        c.handshake()
        c.open_channel(1)
        raws.append(c)
    b.terminate()
    for c in raws:
        code, text, cls, mid = c.expect_connection_close(10)
        rf.check_reply(code, text, 320, SHUTDOWN_TEXT)
        rf.eq((cls, mid), (0, 0))
        c.send_close_ok()
    for c in raws:
        c.expect_eof(10)
    for pc in (conn, idle):
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                pc.process_data_events(time_limit=0.2)
            raise AssertionError("pika connection not closed by the broker within 10 s")
        except pe.ConnectionClosedByBroker as e:
            rf.check_reply(e.reply_code, e.reply_text, 320, SHUTDOWN_TEXT)
    rf.stop_broker_clean(b)  # exit status 0 after SIGTERM


if __name__ == "__main__":
    rf.main()
