"""Limits on what a client can hold: --max-connections (refused at accept,
with a log line), --handshake-timeout (RabbitMQ's handshake_timeout: from
TCP accept to connection.open), and content that is announced but never
sent (a header announcing a huge body reserves nothing up front).
"""
import socket
import time

import pika

import raw_amqp as raw
import roost_fixture as rf


def vm_size_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize for %d" % pid)


def wait_for_log(b, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while text not in b.stderr_text():
        assert time.monotonic() < deadline, "no %r in the broker's log" % text
        time.sleep(0.05)


def test_max_connections_refuses_at_accept_and_frees_a_slot_on_close():
    b = rf.start_broker(extra_args=["--max-connections", "3"])
    held = [rf.connect(port=b.port) for _ in range(3)]
    try:
        rf.connect(port=b.port, connection_attempts=1)
        raise AssertionError("a 4th connection was accepted with --max-connections 3")
    except pika.exceptions.AMQPConnectionError:
        pass
    wait_for_log(b, "refusing connection from 127.0.0.1:")
    assert "3 connections open (--max-connections)" in b.stderr_text()
    # A refused one costs no slot; a closed one frees one (once the broker has seen the close).
    held.pop().close()
    deadline = time.monotonic() + 5
    while True:
        try:
            held.append(rf.connect(port=b.port, connection_attempts=1))
            break
        except pika.exceptions.AMQPConnectionError:
            assert time.monotonic() < deadline, "no slot freed 5 s after a close"
    for c in held:
        c.channel().queue_declare("", exclusive=True)  # the admitted ones work
        c.close()


def test_handshake_timeout_closes_silent_and_stalled_handshakes():
    b = rf.start_broker(extra_args=["--handshake-timeout", "1000"])
    opened_at = time.monotonic()
    silent = raw.RawConnection(b.port)
    stalled = raw.RawConnection(b.port)
    stalled.send(raw.PROTOCOL_HEADER)
    stalled.expect_method(0, raw.CONNECTION_START)  # then no start-ok
    opened = raw.RawConnection(b.port).handshake()
    for c in (silent, stalled):
        c.expect_eof(timeout=5)
        # From the connect, not from this wait: the second closes while the first is awaited.
        lived = time.monotonic() - opened_at
        assert 0.9 <= lived <= 3.0, "closed %.2fs after connecting, with a 1 s handshake timeout" % lived
        c.close()
    # A connection that finished its handshake in time is not touched.
    opened.open_channel(1)
    opened.close()
    assert "closed: handshake timeout" in b.stderr_text()


def test_announced_but_unsent_bodies_reserve_nothing():
    b = rf.start_broker()
    before = vm_size_bytes(b.pid)
    announced = 128 * 1024 * 1024  # --max-message-size's default: accepted
    clients = []
    for _ in range(20):
        c = raw.RawConnection(b.port).handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", "nowhere"))
               + raw.header_frame(1, announced) + raw.body_frame(1, b"x" * 1000))
        clients.append(c)
    # Every connection's frames have been read once a later request on each is answered.
    for c in clients:
        c.send_method(2, raw.CHANNEL_OPEN, raw.channel_open_args())
    for c in clients:
        c.expect_method(2, raw.CHANNEL_OPEN_OK)
    grown = vm_size_bytes(b.pid) - before
    assert grown < 256 * 1024 * 1024, \
        "20 headers announcing 128 MiB each grew the broker's address space by %d MiB" % (grown >> 20)
    ch = rf.connect(port=b.port).channel()
    ch.queue_declare("ok", exclusive=True)
    for c in clients:
        c.close()


if __name__ == "__main__":
    rf.main(file_broker=False)
