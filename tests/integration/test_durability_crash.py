#!/usr/bin/python3
"""Crash safety of publisher confirms (pika): publishers stream persistent, sequence-numbered
messages with confirms into a durable queue; the test kills the broker with SIGKILL at a
random moment (0.5-2 s after the stream started), restarts it on the same data dir and
drains the queue.  Every confirmed message must be there exactly once and in publish order;
unconfirmed ones may be there or not (and may even repeat).  Prints
``confirmed=N recovered=M`` per round.

Rounds: three with one publisher (confirm windows 1, 64 and 1000 in flight; the last with an
explicit ``--sync full``), one with two publishers on separate connections, one with
``--sync normal`` and one with ``--sync off`` (they may lose the last commits on power loss
but not on a process crash, so the same assertion holds).
ROOST_CRASH_SEED=<int> replays the random delays of a run (each run prints its seed)."""
import os
import random
import re
import threading
import time

import pika
import pika.spec

import roost_fixture as rf

SEED = int(os.environ.get("ROOST_CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
RNG = random.Random(SEED)
PERSISTENT = pika.BasicProperties(delivery_mode=2, content_type="application/octet-stream")
MAX_MESSAGES = 400000  # per publisher; the kill comes long before


class Publisher(threading.Thread):
    """One connection, one confirm channel, up to `window` unconfirmed messages in flight.
    Body: b"<name>:<seq>:" padded; delivery tag == seq (confirm mode numbers from 1)."""

    def __init__(self, port, queue, name, window, body_size=64):
        super().__init__(name="publisher-%s" % name, daemon=True)
        self.port = port
        self.queue = queue
        self.label = name
        self.window = window
        self.body_size = body_size
        self.next_seq = 1
        self.low = 1                 # every tag below is confirmed or nacked
        self.outstanding = set()
        self.confirmed = set()
        self.nacked = set()
        self.bad_confirms = []       # confirms for tags not outstanding (a protocol error)
        self.first_confirm_at = None
        self.streaming = threading.Event()
        self.error = None
        self.close_reason = None
        self.conn = None
        self.ch = None

    def body(self, seq):
        head = b"%s:%010d:" % (self.label.encode(), seq)
        return head + b"." * max(0, self.body_size - len(head))

    def run(self):
        try:
            self.conn = pika.SelectConnection(rf.params(port=self.port), on_open_callback=self._on_open,
                                              on_open_error_callback=self._on_open_error,
                                              on_close_callback=self._on_close)
            self.conn.ioloop.start()
        except BaseException as e:  # noqa: reported by the test
            self.error = e

    def stop_soon(self):
        """From another thread: stop the ioloop (only needed if the close went unnoticed)."""
        if self.conn is not None:
            try:
                self.conn.ioloop.add_callback_threadsafe(self.conn.ioloop.stop)
            except Exception:
                pass

    def _on_open(self, conn):
        conn.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, conn, err):
        self.error = err
        conn.ioloop.stop()

    def _on_close(self, conn, reason):
        self.close_reason = reason
        conn.ioloop.stop()

    def _on_channel(self, ch):
        self.ch = ch
        ch.confirm_delivery(self._on_confirm, callback=lambda frame: self._fill())

    def _fill(self):
        while len(self.outstanding) < self.window and self.next_seq <= MAX_MESSAGES:
            seq = self.next_seq
            self.next_seq += 1
            self.outstanding.add(seq)
            self.ch.basic_publish("", self.queue, self.body(seq), properties=PERSISTENT)
        self.streaming.set()

    def _on_confirm(self, frame):
        m = frame.method
        ok = isinstance(m, pika.spec.Basic.Ack)
        tag = m.delivery_tag
        if m.multiple:
            tags = [t for t in range(self.low, tag + 1) if t in self.outstanding]
        elif tag in self.outstanding:
            tags = [tag]
        else:
            tags = []
            self.bad_confirms.append(tag)
        for t in tags:
            self.outstanding.discard(t)
            (self.confirmed if ok else self.nacked).add(t)
        while self.low < self.next_seq and self.low not in self.outstanding:
            self.low += 1
        if ok and self.first_confirm_at is None:
            self.first_confirm_at = time.monotonic()
        self._fill()

    @property
    def published(self):
        return self.next_seq - 1


def check_recovered(b):
    line = b.recovered_line()
    assert line is not None, "no stderr line containing 'recovered' after the restart"
    print("#   %s" % line.strip())
    return line


def drain(b, queue, timeout=60.0):
    """All messages of queue (declare-ok count, then a consumer) -> list of bodies."""
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    n = ch.queue_declare(queue, passive=True).method.message_count
    got = []
    t0 = time.monotonic()
    ch.basic_consume(queue, lambda c, m, p, body: got.append(body), auto_ack=True)
    rf.wait_until(conn, lambda: len(got) >= n, timeout, "%d messages from %s" % (n, queue))
    rate = n / max(time.monotonic() - t0, 1e-6)
    rf.eq(ch.queue_declare(queue, passive=True).method.message_count, 0, "queue empty after the drain")
    conn.close()
    return n, got, rate


def crash_round(windows, extra_args=()):
    b = rf.start_broker(extra_args=extra_args)
    conn = rf.connect(port=b.port)
    q = rf.uniq("q-crash")
    conn.channel().queue_declare(q, durable=True)
    conn.close()
    pubs = [Publisher(b.port, q, "p%d" % i, w) for i, w in enumerate(windows)]
    try:
        for p in pubs:
            p.start()
        for p in pubs:
            if not p.streaming.wait(10):
                raise AssertionError("publisher %s did not start streaming within 10 s (error %r)" % (p.label, p.error))
        delay = RNG.uniform(0.5, 2.0)
        time.sleep(delay)  # the random crash moment is the point of this test
        published_at_kill = [p.published for p in pubs]
        b.kill9()
        for p in pubs:
            p.join(10)
    finally:
        for p in pubs:
            if p.is_alive():
                p.stop_soon()
                p.join(5)
    for p in pubs:
        assert not p.is_alive(), "publisher %s still running 15 s after the crash" % p.label
        assert p.error is None, "publisher %s failed: %r" % (p.label, p.error)
        assert not p.bad_confirms, "publisher %s got confirms for unknown or already confirmed tags %r" \
            % (p.label, p.bad_confirms[:10])
        assert p.confirmed, "publisher %s had no confirm before the kill (%.2f s in)" % (p.label, delay)

    t0 = time.monotonic()
    b = rf.restart_broker(b, kill=True)
    restart_s = time.monotonic() - t0
    line = check_recovered(b)
    n, got, rate = drain(b, q)

    by_pub = {p.label: p for p in pubs}
    seen = {p.label: [] for p in pubs}
    for body in got:
        parts = body.split(b":")
        assert len(parts) == 3 and parts[0].decode() in by_pub, "unexpected message %r" % body[:40]
        p = by_pub[parts[0].decode()]
        seq = int(parts[1])
        assert body == p.body(seq), "body of %s seq %d damaged: %r" % (p.label, seq, body)
        assert 1 <= seq <= p.published, "%s seq %d was never published (published %d)" % (p.label, seq, p.published)
        seen[p.label].append(seq)

    total_confirmed = sum(len(p.confirmed) for p in pubs)
    print("#   seed=%d delay=%.2fs windows=%s published=%s (at kill %s) nacked=%s restart=%.2fs drain=%.0f msg/s"
          % (SEED, delay, windows, [p.published for p in pubs], published_at_kill,
             [len(p.nacked) for p in pubs], restart_s, rate))
    print("confirmed=%d recovered=%d" % (total_confirmed, n))

    for p in pubs:
        seqs = seen[p.label]
        counts = {}
        for s in seqs:
            counts[s] = counts.get(s, 0) + 1
        missing = sorted(s for s in p.confirmed if s not in counts)
        assert not missing, "%s: %d confirmed messages missing after the crash, e.g. %s" \
            % (p.label, len(missing), missing[:10])
        dup = sorted(s for s in p.confirmed if counts[s] > 1)
        assert not dup, "%s: confirmed messages recovered more than once: %s" % (p.label, dup[:10])
        confirmed_order = [s for s in seqs if s in p.confirmed]
        assert confirmed_order == sorted(confirmed_order), "%s: confirmed messages out of publish order" % p.label
        unconfirmed_back = sum(1 for s in counts if s not in p.confirmed)
        if unconfirmed_back:
            print("#   %s: %d unconfirmed messages were recovered too (allowed)" % (p.label, unconfirmed_back))
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (exchanges|queues|bindings|messages)\b", line)}
    if "messages" in counts:
        rf.eq(counts["messages"], n, "messages in the recovery line (one durable queue)")


@rf.timeout(90)
def test_crash_round_1_one_publisher_window_1():
    crash_round([1])


@rf.timeout(90)
def test_crash_round_2_one_publisher_window_64():
    crash_round([64])


@rf.timeout(90)
def test_crash_round_3_one_publisher_window_1000_sync_full():
    crash_round([1000], extra_args=["--sync", "full"])


@rf.timeout(90)
def test_crash_two_publishers_on_separate_connections():
    crash_round([16, 500])


@rf.timeout(90)
def test_crash_with_sync_normal():
    crash_round([256], extra_args=["--sync", "normal"])


@rf.timeout(90)
def test_crash_with_sync_off():
    """Without fsync a power loss may lose anything, but a process crash loses nothing that
    was committed: confirms still come only after the commit."""
    crash_round([256], extra_args=["--sync", "off"])


if __name__ == "__main__":
    print("# ROOST_CRASH_SEED=%d" % SEED)
    rf.main(test_timeout=90, total_timeout=280, file_broker=False)
