#!/usr/bin/python3
"""Stream queues: retention, filtering, server-side offset tracking and durability, with pika
(the rest of the stream rules are in test_streams.py; helpers in stream_support.py).

- retention (x-max-length-bytes, x-max-age) removes whole old segments, in RabbitMQ only when a
  new segment is started, so what a consumer from "first" sees is always a contiguous tail;
  RabbitMQ's offsets skip one number at each new segment, Roost's are contiguous (asserted
  only against Roost);
- Roost-only (skipped against RabbitMQ): filtering (`x-stream-filter-value` header,
  `x-stream-filter` / `x-stream-match-unfiltered`, as RabbitMQ 3.13 but exact), server-side
  offset tracking (`x-stream-automatic-offset-tracking`) across a restart, a restart and a
  SIGKILL keeping offsets, contents, first and last, and a SIGKILL while publishing with
  confirms losing no confirmed message.
"""
import random
import threading
import time

import pika
import pika.spec

import roost_fixture as rf
from stream_support import (
    STREAM, stream_args, declare_stream, confirm_channel, publish, seq_body, seq_of, Reader,
    read_from)


# ---------------------------------------------------------------- retention

def _check_tail(got, last_seq, what):
    """got: [(offset, body)] from "first": a contiguous tail of the published sequence
    ending at last_seq, offsets strictly increasing (and contiguous in Roost)."""
    seqs = [seq_of(b) for _, b in got]
    offsets = [o for o, _ in got]
    rf.eq(seqs, list(range(seqs[0], last_seq + 1)), "%s: retained messages" % what)
    assert all(a < b for a, b in zip(offsets, offsets[1:])), "%s: offsets not increasing: %r" % (what, offsets)
    if not rf.external():  # RabbitMQ skips an offset at each new segment
        rf.eq(offsets, list(range(offsets[0], offsets[0] + len(offsets))), "%s: offsets" % what)
    return seqs, offsets


def _read_after_retention(s, last_seq, timeout=10.0):
    """Consumers from "first" until the first retained message is no longer seq 0."""
    deadline = time.monotonic() + timeout
    while True:
        got = read_from(s, seq_body(last_seq))
        if seq_of(got[0][1]) > 0:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("nothing was removed from %s within %.0f s" % (s, timeout))
        time.sleep(0.05)


def test_retention_by_size_removes_whole_old_segments():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch, x_max_length_bytes=20000, x_stream_max_segment_size_bytes=5000)
    publish(ch, s, [seq_body(i) for i in range(200)])
    got = _read_after_retention(s, 199)
    seqs, offsets = _check_tail(got, 199, "size retention")
    # about 20000 bytes stay (RabbitMQ: 50 messages of 200 bytes plus its overheads)
    assert 20 <= len(seqs) <= 125, "%d messages retained of 200" % len(seqs)
    assert offsets[0] > 0
    last = Reader(s, "last").wait(1)
    rf.eq(last.got[0][:2], (offsets[-1], seq_body(199)))
    # the new first stays where it is for a consumer from an offset before it
    early = read_from(s, seq_body(199), offset=0)
    rf.eq(early, got)


@rf.timeout(30)
def test_retention_by_age_removes_old_segments_when_a_new_one_starts():
    conn = rf.connect()
    ch = confirm_channel(conn)
    s = declare_stream(ch, x_max_age="1s", x_stream_max_segment_size_bytes=5000)
    publish(ch, s, [seq_body(i) for i in range(40)])  # about three segments
    time.sleep(1.5)  # the messages age past x-max-age
    # RabbitMQ looks at ages only when a segment is full and a new one starts
    publish(ch, s, [seq_body(i) for i in range(40, 80)])
    got = _read_after_retention(s, 79)
    seqs, _ = _check_tail(got, 79, "age retention")
    assert 0 < seqs[0] <= 40, "first retained message %d (the young ones are 40..79)" % seqs[0]


# ---------------------------------------------------------------- Roost only

def _publish_filtered(ch, s, items):
    """items: [(body, filter value or None)]"""
    for body, value in items:
        headers = {"x-stream-filter-value": value} if value is not None else {"other": 1}
        ch.basic_publish("", s, body, pika.BasicProperties(headers=headers))


def test_filtering_delivers_exactly_the_matching_messages():
    if rf.external():
        rf.skip("RabbitMQ 3.10 has no stream filtering (3.13 filters with a bloom filter, not exactly)")
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    values = ["a", "b", "c", None, "a", "a", None, "b", "c", "c", "d", None]
    published = [(b"m%d" % i, v) for i, v in enumerate(values * 3)]
    _publish_filtered(ch, s, published)
    cases = [  # (consumer arguments, its marker's filter value, accepts(value))
        ({"x-stream-filter": "a"}, "a", lambda v: v == "a"),
        ({"x-stream-filter": ["a", "b"]}, "b", lambda v: v in ("a", "b")),
        ({"x-stream-filter": "c", "x-stream-match-unfiltered": True}, None, lambda v: v in ("c", None)),
        ({"x-stream-filter": ["b"], "x-stream-match-unfiltered": False}, "b", lambda v: v == "b"),
        ({"x-stream-filter": ["zz"], "x-stream-match-unfiltered": True}, None, lambda v: v is None),
        ({}, "d", lambda v: True),
    ]
    offset_of = {}
    for i, (args, marker_value, accepts) in enumerate(cases):
        r = Reader(s, "first", prefetch=2, arguments=args)
        marker = b"marker%d" % i
        # the consumer's own marker comes last: anything it should not get would come before it
        _publish_filtered(ch, s, [(marker, marker_value)])
        published.append((marker, marker_value))
        r.wait_for_body(marker)
        want = [body for body, v in published if accepts(v)]
        rf.eq(r.bodies, want, "filter %r" % (args,))
        if not args:
            offset_of = dict(zip(r.bodies, r.offsets))
            rf.eq(r.offsets, list(range(len(published))))
        for o, body, _, p in r.got:
            assert o is not None and p.headers["x-stream-offset"] == o
        r.conn.close()
    # offsets are the stream's, not renumbered per consumer
    r = Reader(s, "first", prefetch=5, arguments={"x-stream-filter": "d"}).wait(3)
    rf.eq(r.offsets, [offset_of[b] for b in r.bodies])


@rf.timeout(60)
def test_automatic_offset_tracking_resumes_after_the_last_ack_and_a_restart():
    b = rf.start_broker()  # skips against RabbitMQ (3.10 has no server-side tracking over AMQP)
    ch = confirm_channel(rf.connect(port=b.port))
    s = rf.uniq("tracked")
    ch.queue_declare(s, durable=True, arguments=STREAM)
    publish(ch, s, [b"m%d" % i for i in range(10)])
    track = {"x-stream-automatic-offset-tracking": True}
    r = Reader(s, "first", prefetch=10, ack=False, tag="reader-1", arguments=track, port=b.port).wait(10)
    for _, _, m, _ in r.got[:3]:
        r.ch.basic_ack(m.delivery_tag)
    r.ch.basic_ack(r.got[4][2].delivery_tag, multiple=True)  # highest acked: offset 4
    r.cancel()
    r.conn.close()
    again = Reader(s, None, prefetch=10, tag="reader-1", arguments=track, port=b.port).wait(5)
    rf.eq(again.offsets, [5, 6, 7, 8, 9])
    again.cancel()  # acked 5..9 meanwhile
    explicit = Reader(s, 2, prefetch=20, ack=False, tag="reader-1", arguments=track, port=b.port).wait(8)
    rf.eq(explicit.offsets[0], 2)  # an explicit x-stream-offset wins
    explicit.conn.close()
    other = Reader(s, "first", prefetch=20, ack=False, tag="reader-2", arguments=track, port=b.port).wait(10)
    other.ch.basic_ack(other.got[2][2].delivery_tag, multiple=True)
    other.cancel()
    publish(ch, s, [b"m10", b"m11"])
    b = rf.restart_broker(b)
    for tag, want in (("reader-1", [10, 11]), ("reader-2", list(range(3, 12)))):
        r = Reader(s, None, prefetch=20, ack=False, tag=tag, arguments=track, port=b.port).wait(len(want))
        rf.eq(r.offsets, want, "resumed %s" % tag)
        rf.eq(r.bodies, [b"m%d" % i for i in want])


def _stream_content(s, last_body, port):
    r = Reader(s, "first", prefetch=200, port=port)
    r.wait_for_body(last_body)
    content = [(o, body, {k: v for k, v in (p.headers or {}).items() if k != "x-stream-offset"}, p.message_id)
               for o, body, _, p in r.got]
    r.conn.close()
    return content


@rf.timeout(60)
def test_restart_and_kill_keep_offsets_contents_first_and_last():
    b = rf.start_broker()
    ch = confirm_channel(rf.connect(port=b.port))
    s = rf.uniq("kept")
    ch.queue_declare(s, durable=True, arguments=stream_args(x_max_length_bytes=20000,
                                                            x_stream_max_segment_size_bytes=5000))
    for i in range(200):
        ch.basic_publish("", s, seq_body(i), pika.BasicProperties(headers={"i": i}, message_id="id%d" % i))
    before = _stream_content(s, seq_body(199), b.port)
    assert before[0][0] > 0, "retention removed nothing"
    for kill in (False, True):
        b = rf.restart_broker(b, kill=kill)
        after = _stream_content(s, seq_body(199), b.port)
        rf.eq(after, before, "stream after %s" % ("SIGKILL" if kill else "a restart"))
        last = Reader(s, "last", port=b.port).wait(1)
        rf.eq(last.got[0][:2], before[-1][:2])
        ch = confirm_channel(rf.connect(port=b.port))
        publish(ch, s, [b"after"])
        last.wait(2)
        rf.eq(last.got[1][:2], (before[-1][0] + 1, b"after"))
        before = _stream_content(s, b"after", b.port)


class _ConfirmedPublisher(threading.Thread):
    """Pipelined publishes (up to `window` unconfirmed) with confirms on a SelectConnection,
    until the broker goes away. Body: b"%010d" % seq, seq from 1 = the delivery tag."""

    def __init__(self, port, queue, window=200):
        super().__init__(daemon=True)
        self.port, self.queue, self.window = port, queue, window
        self.next_seq = 1
        self.outstanding = set()
        self.confirmed = set()
        self.started = threading.Event()
        self.error = None
        self.conn = self.ch = None

    def run(self):
        try:
            self.conn = pika.SelectConnection(rf.params(port=self.port), on_open_callback=self._on_open,
                                              on_open_error_callback=lambda c, e: self._fail(e),
                                              on_close_callback=lambda c, reason: c.ioloop.stop())
            self.conn.ioloop.start()
        except BaseException as e:  # noqa: reported by the test
            self.error = e

    def _fail(self, error):
        self.error = error
        self.conn.ioloop.stop()

    def _on_open(self, conn):
        conn.channel(on_open_callback=self._on_channel)

    def _on_channel(self, ch):
        self.ch = ch
        ch.confirm_delivery(self._on_confirm, callback=lambda frame: self._fill())

    def _fill(self):
        while len(self.outstanding) < self.window:
            seq = self.next_seq
            self.next_seq += 1
            self.outstanding.add(seq)
            self.ch.basic_publish("", self.queue, b"%010d" % seq, pika.BasicProperties(delivery_mode=2))
        self.started.set()

    def _on_confirm(self, frame):
        m = frame.method
        tags = [t for t in self.outstanding if t <= m.delivery_tag] if m.multiple else [m.delivery_tag]
        for t in tags:
            self.outstanding.discard(t)
            if isinstance(m, pika.spec.Basic.Ack):
                self.confirmed.add(t)
        self._fill()


@rf.timeout(90)
def test_sigkill_while_publishing_keeps_every_confirmed_message_once_in_order():
    b = rf.start_broker()
    conn = rf.connect(port=b.port)
    s = rf.uniq("crash")
    conn.channel().queue_declare(s, durable=True, arguments=STREAM)
    conn.close()
    p = _ConfirmedPublisher(b.port, s)
    p.start()
    assert p.started.wait(10), "the publisher did not start (%r)" % (p.error,)
    time.sleep(random.uniform(0.5, 1.5))  # a random moment in the middle of the stream is the point
    b.kill9()
    p.join(15)
    assert not p.is_alive() and p.confirmed, "publisher alive=%s confirmed=%d error=%r" % (
        p.is_alive(), len(p.confirmed), p.error)
    b = rf.restart_broker(b, kill=True)
    ch = confirm_channel(rf.connect(port=b.port))
    publish(ch, s, [b"end"])
    r = Reader(s, "first", prefetch=1000, port=b.port)
    r.wait_for_body(b"end", timeout=60)
    seqs = [int(body) for body in r.bodies[:-1]]
    print("#   confirmed=%d published=%d in the stream=%d" % (len(p.confirmed), p.next_seq - 1, len(seqs)))
    # one publisher: the stream holds a prefix of what it sent, every confirmed message in it once
    rf.eq(seqs, list(range(1, len(seqs) + 1)), "recovered sequence numbers")
    assert len(seqs) >= max(p.confirmed), "confirmed up to %d, the stream has %d" % (max(p.confirmed), len(seqs))
    rf.eq(r.offsets, list(range(len(seqs) + 1)), "offsets")


if __name__ == "__main__":
    rf.main()
