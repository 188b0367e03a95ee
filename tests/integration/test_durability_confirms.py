#!/usr/bin/python3
"""Publisher confirms with durable queues and persistent messages (raw sockets to see every
basic.ack / basic.nack / basic.return frame, and pika).  Runs on the file's broker (also
against real RabbitMQ with ROOST_EXTERNAL_PORT); the restart at the end needs its own.

- every publish on a confirm channel is acked exactly once (tags 1..N, `multiple` honoured),
  persistent or transient, durable or non-durable queue, routed to one, many or no queues;
- no nacks in normal operation;
- a mandatory unroutable persistent message: basic.return (with its content) comes before
  the basic.ack that covers its tag;
- a confirmed persistent message to a durable queue is in the queue (and, with a broker the
  test can restart, still there after a SIGKILL)."""
import struct

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

PERSISTENT_PROPS = struct.pack(">H", 0x1000) + b"\x02"  # property flags: delivery-mode only; 2
TRANSIENT_PROPS = struct.pack(">H", 0x1000) + b"\x01"
NO_PROPS = b"\x00\x00"

BASIC_NACK = (60, 120)
EXCHANGE_DECLARE_OK = (40, 11)
QUEUE_BIND_OK = (50, 21)
QUEUE_DELETE = (50, 40)
QUEUE_DELETE_OK = (50, 41)
EXCHANGE_DELETE = (40, 20)
EXCHANGE_DELETE_OK = (40, 21)


class ConfirmConn:
    """A raw connection with channel 1 in confirm mode; collects acks/nacks/returns in order."""

    def __init__(self, port):
        self.c = rf.track(raw.RawConnection(port, timeout=15))
        self.c.handshake()
        self.c.open_channel(1)
        self.c.send_method(1, raw.CONFIRM_SELECT, b"\x00")
        self.c.expect_method(1, raw.CONFIRM_SELECT_OK)
        self.published = 0
        self.acked = []      # tags, in the order their confirms arrived (multiple expanded)
        self.nacked = []
        self.events = []     # ("ack", tag) / ("return", body) in arrival order
        self.confirmed_upto = 0

    def declare_queue(self, name, durable):
        self.c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(name, durable=durable))
        self.c.expect_method(1, raw.QUEUE_DECLARE_OK)

    def declare_exchange(self, name, kind, durable):
        args = (struct.pack(">H", 0) + raw.shortstr(name) + raw.shortstr(kind)
                + raw.bits(False, durable, False, False, False) + b"\x00\x00\x00\x00")
        self.c.send_method(1, raw.EXCHANGE_DECLARE, args)
        self.c.expect_method(1, EXCHANGE_DECLARE_OK)

    def bind(self, queue, exchange, key=""):
        args = (struct.pack(">H", 0) + raw.shortstr(queue) + raw.shortstr(exchange) + raw.shortstr(key)
                + raw.bits(False) + b"\x00\x00\x00\x00")
        self.c.send_method(1, raw.QUEUE_BIND, args)
        self.c.expect_method(1, QUEUE_BIND_OK)

    def delete_queue(self, name):
        self.c.send_method(1, QUEUE_DELETE, struct.pack(">H", 0) + raw.shortstr(name) + raw.bits(False, False, False))
        self.c.expect_method(1, QUEUE_DELETE_OK)

    def delete_exchange(self, name):
        self.c.send_method(1, EXCHANGE_DELETE, struct.pack(">H", 0) + raw.shortstr(name) + raw.bits(False, False))
        self.c.expect_method(1, EXCHANGE_DELETE_OK)

    def publish(self, exchange, key, body, props, mandatory=False):
        self.c.publish(1, exchange, key, body, properties=props, mandatory=mandatory)
        self.published += 1
        return self.published

    def _confirm(self, kind, tag, multiple):
        if multiple:
            tags = [t for t in range(1, tag + 1) if t not in self._seen]
        else:
            assert tag not in self._seen, "%s for tag %d, which was already confirmed" % (kind, tag)
            tags = [tag]
        for t in tags:
            assert 1 <= t <= self.published, "%s for tag %d, only %d published" % (kind, t, self.published)
            self._seen.add(t)
            (self.acked if kind == "ack" else self.nacked).append(t)
            self.events.append((kind, t))

    def wait_all_confirmed(self, timeout=30):
        """Read frames until every published tag is acked or nacked."""
        self._seen = set(self.acked) | set(self.nacked)
        while len(self._seen) < self.published:
            ch, m, args = self.c.read_method(timeout)
            rf.eq(ch, 1, "channel")
            if m == raw.BASIC_ACK:
                tag, flags = struct.unpack_from(">QB", args, 0)
                self._confirm("ack", tag, flags & 1)
            elif m == BASIC_NACK:
                tag, flags = struct.unpack_from(">QB", args, 0)
                self._confirm("nack", tag, flags & 1)
            elif m == raw.BASIC_RETURN:
                code = struct.unpack_from(">H", args, 0)[0]
                text, off = raw.parse_shortstr(args, 2)
                exchange, off = raw.parse_shortstr(args, off)
                key, off = raw.parse_shortstr(args, off)
                header, body = self.c.read_content(1)
                self.events.append(("return", body, code, text.decode(), exchange.decode(), key.decode(),
                                    header[12:]))
            else:
                raise AssertionError("unexpected method %r while waiting for confirms" % (m,))

    def message_count(self, queue):
        self.c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(queue, passive=True))
        args = self.c.expect_method(1, raw.QUEUE_DECLARE_OK)
        _, off = raw.parse_shortstr(args, 0)
        count, consumers = struct.unpack_from(">II", args, off)
        return count


def assert_each_acked_once(cc):
    rf.eq(cc.nacked, [], "nacked tags")
    rf.eq(sorted(cc.acked), list(range(1, cc.published + 1)), "acked tags")


def test_persistent_to_durable_queue_every_publish_acked_once():
    cc = ConfirmConn(rf.port())
    q = rf.uniq("q-durable")
    cc.declare_queue(q, durable=True)
    n = 2000
    for i in range(n):
        cc.publish("", q, b"persistent-%d" % i, PERSISTENT_PROPS)
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    rf.eq(cc.message_count(q), n, "messages in the durable queue after all confirms")
    cc.delete_queue(q)


def test_transient_and_mixed_messages_are_acked_too():
    cc = ConfirmConn(rf.port())
    qd = rf.uniq("q-durable")
    qt = rf.uniq("q-transient")
    cc.declare_queue(qd, durable=True)
    cc.declare_queue(qt, durable=False)
    plan = []
    for i in range(300):
        props = (PERSISTENT_PROPS, TRANSIENT_PROPS, NO_PROPS)[i % 3]
        q = (qd, qt)[(i // 3) % 2]
        plan.append(q)
        cc.publish("", q, b"m%d" % i, props)
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    rf.eq(cc.message_count(qd), plan.count(qd))
    rf.eq(cc.message_count(qt), plan.count(qt))
    cc.delete_queue(qd)
    cc.delete_queue(qt)


def test_one_ack_per_message_routed_to_many_or_no_queues():
    cc = ConfirmConn(rf.port())
    x = rf.uniq("x-fanout")
    empty = rf.uniq("x-empty")
    cc.declare_exchange(x, "fanout", durable=True)
    cc.declare_exchange(empty, "direct", durable=True)
    queues = [rf.uniq("q%d" % i) for i in range(4)]
    for i, q in enumerate(queues):
        cc.declare_queue(q, durable=(i != 3))
        cc.bind(q, x)
    n = 500
    for i in range(n):
        cc.publish(x, "", b"fan-%d" % i, PERSISTENT_PROPS if i % 2 == 0 else TRANSIENT_PROPS)
        cc.publish(empty, "nowhere", b"lost-%d" % i, PERSISTENT_PROPS)  # unroutable, not mandatory
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    rf.eq([e for e in cc.events if e[0] == "return"], [], "returns without mandatory")
    for q in queues:
        rf.eq(cc.message_count(q), n, "messages in %s" % q)
        cc.delete_queue(q)
    cc.delete_exchange(x)
    cc.delete_exchange(empty)


def test_mandatory_unroutable_persistent_returned_before_its_ack():
    cc = ConfirmConn(rf.port())
    x = rf.uniq("x-durable")
    q = rf.uniq("q-durable")
    cc.declare_exchange(x, "direct", durable=True)
    cc.declare_queue(q, durable=True)
    cc.bind(q, x, "routed")
    props = struct.pack(">H", 0x8000 | 0x1000) + raw.shortstr("text/plain") + b"\x02"  # content-type, delivery-mode
    unroutable = set()
    for i in range(60):
        if i % 3 == 1:
            unroutable.add(cc.publish(x, "unrouted", b"bounce-%d" % i, props, mandatory=True))
        else:
            cc.publish(x, "routed", b"ok-%d" % i, props, mandatory=True)
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    returns = [e for e in cc.events if e[0] == "return"]
    rf.eq([r[1] for r in returns], [b"bounce-%d" % i for i in range(60) if i % 3 == 1], "returned bodies in order")
    for r in returns:
        rf.eq(r[2:6], (312, "NO_ROUTE", x, "unrouted"))
        rf.eq(r[6], props, "returned content header")
    # each return precedes the ack of its tag: the k-th return belongs to the k-th unroutable tag
    order = {}
    for pos, e in enumerate(cc.events):
        if e[0] == "ack":
            order[e[1]] = pos
    return_pos = [pos for pos, e in enumerate(cc.events) if e[0] == "return"]
    for tag, pos in zip(sorted(unroutable), return_pos):
        assert pos < order[tag], "basic.return of tag %d arrived after its basic.ack (events %r)" \
            % (tag, cc.events[max(0, pos - 3):pos + 3])
    rf.eq(cc.message_count(q), 40)
    cc.delete_queue(q)
    cc.delete_exchange(x)


def test_pika_mandatory_unroutable_persistent_raises_unroutable():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    x = rf.uniq("x-durable")
    q = rf.uniq("q-durable")
    ch.exchange_declare(x, "topic", durable=True)
    ch.queue_declare(q, durable=True)
    ch.queue_bind(q, x, "a.#")
    props = pika.BasicProperties(delivery_mode=2, headers={"n": {"deep": [1, "x"]}}, message_id="bounced")
    try:
        ch.basic_publish(x, "b.c", b"bounce", properties=props, mandatory=True)
        raise AssertionError("expected UnroutableError (basic.return before basic.ack)")
    except pe.UnroutableError as e:
        rf.eq(len(e.messages), 1)
        ret = e.messages[0]
        rf.eq((ret.method.reply_code, ret.method.reply_text, ret.method.exchange, ret.method.routing_key),
              (312, "NO_ROUTE", x, "b.c"))
        rf.eq((ret.body, ret.properties.delivery_mode, ret.properties.headers, ret.properties.message_id),
              (b"bounce", 2, {"n": {"deep": [1, "x"]}}, "bounced"))
    for i in range(50):
        ch.basic_publish(x, "a.%d" % i, b"routed-%d" % i, properties=props, mandatory=True)  # returns once acked
    rf.eq(ch.queue_declare(q, passive=True).method.message_count, 50)
    ch.queue_delete(q)
    ch.exchange_delete(x)


def test_persistent_messages_delivered_to_a_consumer_are_acked():
    cc = ConfirmConn(rf.port())
    q = rf.uniq("q-consumed")
    cc.declare_queue(q, durable=True)
    conn = rf.connect()
    cch = conn.channel()
    got = []
    cch.basic_consume(q, lambda c, m, p, body: got.append(body), auto_ack=True)
    n = 500
    for i in range(n):
        cc.publish("", q, b"c-%d" % i, PERSISTENT_PROPS)
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    rf.wait_until(conn, lambda: len(got) >= n, 10, "%d deliveries" % n)
    rf.eq(got, [b"c-%d" % i for i in range(n)])
    cc.delete_queue(q)


def test_confirmed_persistent_messages_survive_sigkill():
    """Needs a broker of its own (skipped against an external broker)."""
    b = rf.start_broker()
    cc = ConfirmConn(b.port)
    q = rf.uniq("q-durable")
    cc.declare_queue(q, durable=True)
    n = 1000
    for i in range(n):
        cc.publish("", q, b"%06d" % i, PERSISTENT_PROPS)
    cc.wait_all_confirmed()
    assert_each_acked_once(cc)
    b = rf.restart_broker(b, kill=True)
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    rf.eq(ch.queue_declare(q, passive=True).method.message_count, n)
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append((body, m.redelivered)), auto_ack=True)
    rf.wait_until(conn, lambda: len(got) >= n, 20, "%d messages" % n)
    rf.eq([g[0] for g in got], [b"%06d" % i for i in range(n)])


if __name__ == "__main__":
    rf.main()
