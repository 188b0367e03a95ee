"""Helpers of the stream tests (test_streams.py, test_stream_retention.py): declaring streams
(deleted after the test on an external RabbitMQ), confirmed publishing, stream consumers on
connections of their own, and the management API's view of a queue."""
import datetime
import time

import pika
import pika.exceptions as pe

import admin_http
import roost_fixture as rf
from admin_http import q as quote

STREAM = {"x-queue-type": "stream"}
V = "in vhost '/'"
BODY_PAD = 195  # retention tests: 5-digit sequence number + 195 dots = 200-byte bodies


def stream_args(extra=None, **kw):
    """{"x-queue-type": "stream"} plus the arguments in extra and kw (x_max_age="1h" is
    "x-max-age": "1h")."""
    args = dict(STREAM)
    args.update(extra or {})
    args.update({k.replace("_", "-"): v for k, v in kw.items()})
    return args


class _Deleter:
    """Deletes a stream after the test (a durable queue on a shared RabbitMQ would stay)."""

    def __init__(self, name, port):
        self.name = name
        self.port = port

    def close(self):
        conn = pika.BlockingConnection(rf.params(port=self.port))
        try:
            conn.channel().queue_delete(self.name)
        finally:
            conn.close()


def declare_stream(ch, name=None, port=None, extra=None, **kw):
    name = name or rf.uniq("stream")
    ch.queue_declare(name, durable=True, arguments=stream_args(extra, **kw))
    if rf.external():
        rf.track(_Deleter(name, port or rf.port()))
    return name


def confirm_channel(conn):
    ch = conn.channel()
    ch.confirm_delivery()
    return ch


def publish(ch, queue, bodies, properties=None, exchange=""):
    """Publish each body on a confirm channel, waiting for its confirm before the next, so
    every message is a write (a chunk) of its own."""
    for body in bodies:
        ch.basic_publish(exchange, queue, body, properties)


def at_second(seconds):
    """An x-stream-offset timestamp: pika sends a datetime as an AMQP timestamp ('T', seconds)."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def seq_body(i):
    return b"%05d" % i + b"." * BODY_PAD


def seq_of(body):
    return int(body[:5])


class Reader:
    """One stream consumer on its own connection; deliveries as (offset, body, method, props)."""

    def __init__(self, queue, offset=None, prefetch=100, ack=True, tag=None, arguments=None, port=None):
        self.conn = rf.connect(port=port) if port else rf.connect()
        self.ch = self.conn.channel()
        self.ch.basic_qos(prefetch_count=prefetch)
        self.ack = ack
        self.got = []
        args = dict(arguments or {})
        if offset is not None:
            args["x-stream-offset"] = offset
        self.tag = self.ch.basic_consume(queue, self._on_message, arguments=args, consumer_tag=tag)

    def _on_message(self, ch, method, props, body):
        self.got.append(((props.headers or {}).get("x-stream-offset"), body, method, props))
        if self.ack:
            ch.basic_ack(method.delivery_tag)

    def wait(self, n, timeout=10.0):
        try:
            rf.wait_until(self.conn, lambda: len(self.got) >= n, timeout, "%d deliveries" % n)
        except AssertionError as e:
            raise AssertionError("%s; got offsets %r" % (e, self.offsets[:20]))
        return self

    def wait_for_body(self, body, timeout=10.0):
        rf.wait_until(self.conn, lambda: any(b == body for _, b, _, _ in self.got), timeout,
                      "delivery of %r" % body[:20])
        return self

    @property
    def offsets(self):
        return [o for o, _, _, _ in self.got]

    @property
    def bodies(self):
        return [b for _, b, _, _ in self.got]

    def cancel(self):
        self.ch.basic_cancel(self.tag)


def pump(readers, pred, timeout=10.0, what="condition"):
    """Process the events of several readers' connections until pred() holds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        for r in readers:
            r.conn.process_data_events(time_limit=0.01)


def read_from(queue, last_body, offset="first", port=None, timeout=10.0):
    """A consumer from `offset` until `last_body` arrives -> [(offset, body)]; closed after."""
    r = Reader(queue, offset, prefetch=200, port=port)
    r.wait_for_body(last_body, timeout)
    r.conn.close()
    return [(o, b) for o, b, _, _ in r.got]


def expect_refused_or_crash(fn, text):
    """RabbitMQ 3.10 crashes on some malformed values (541 INTERNAL_ERROR, connection
    closed); a 406 with RabbitMQ's text for the same kind of value is accepted too."""
    try:
        fn()
    except pe.ChannelClosedByBroker as e:
        rf.check_reply(e.reply_code, e.reply_text, 406, text)
        return
    except pe.ConnectionClosedByBroker as e:
        rf.eq((e.reply_code, e.reply_text), (541, "INTERNAL_ERROR"), "connection closed with")
        return
    raise AssertionError("expected a refusal (406 or 541), nothing was raised")


def get_queue(name, port=None):
    status, body, _ = admin_http.api("GET", "/api/queues/%2F/" + quote(name), port=port)
    rf.eq(status, 200, "GET queue %s: %r" % (name, body))
    return body
