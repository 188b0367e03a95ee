#!/usr/bin/python3
"""Durability across restarts, driven by pika: what survives a graceful restart (SIGTERM,
exit 0, new process on the same --data-dir) or a crash (SIGKILL) and what does not.

Every test starts its own broker on a fresh data dir (rf.start_broker) and restarts it with
rf.restart_broker; nothing is shared between tests.  The expectations are RabbitMQ's
(checked against a private RabbitMQ 3.10 node restarted on the same mnesia dir):

- durable exchanges (every type, internal, auto-delete, alternate-exchange), durable queues
  (with their arguments and flags), their bindings (queue and exchange-to-exchange, with
  arguments) and persistent messages in durable queues survive, byte for byte and in order;
- non-durable exchanges and queues, transient messages (delivery_mode 1 or absent),
  persistent messages in non-durable queues, bindings to or from a non-durable exchange or
  queue, and exclusive queues (durable or not, named or server-named) are gone;
- acked, purged and deleted things stay gone; a message routed to two queues comes back in
  both and is counted separately;
- messages delivered but not acked at shutdown or crash come back first, in their original
  order, with redelivered=True; never-delivered ones have redelivered=False.

One deliberate difference from RabbitMQ (see NEVER_DELIVERED_REDELIVERED_AFTER_CRASH):
RabbitMQ 3.10 (classic queues) marks *every* message recovered after an unclean shutdown
redelivered=True, delivered or not; Roost records delivery per message and reports
redelivered=False for messages that were never delivered, after a crash as after a graceful
stop.  Both are valid AMQP (the flag is a hint); the tests encode Roost's stricter contract.
"""
import datetime
import decimal
import re
import struct

import pika
import pika.exceptions as pe

import raw_amqp as raw
import roost_fixture as rf

V = "in vhost '/'"
# redelivered flag, after a SIGKILL, of a recovered message that was never delivered
# (Roost: False; RabbitMQ 3.10 classic queues: True for every message after a crash)
NEVER_DELIVERED_REDELIVERED_AFTER_CRASH = False
PERSISTENT = 2
TRANSIENT = 1

ALL_HEADERS = {
    "str": "hello",
    "utf8": "h\u00e9llo \u2603",
    "empty_str": "",
    "bytes": b"\x00\x01\xfe\xff",
    "true": True,
    "false": False,
    "int": 42,
    "neg": -7,
    "int32max": 2 ** 31 - 1,
    "int32min": -2 ** 31,
    "big": 2 ** 40,
    "decimal": decimal.Decimal("3.14"),
    "timestamp": datetime.datetime(2024, 2, 29, 13, 14, 15),
    "table": {"nested": "x", "n": 1, "deeper": {"a": [1, "b"], "t": {}, "deepest": {"z": [[], {}]}}},
    "empty_table": {},
    "array": [1, "two", True, None, {"k": "v"}, [3, [4]], 2 ** 40, b"\x00"],
    "empty_array": [],
    "void": None,
}

PROPERTY_NAMES = ["content_type", "content_encoding", "headers", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
                  "user_id", "app_id", "cluster_id"]


def full_properties(i, delivery_mode=PERSISTENT):
    """Every basic property set, varying with i."""
    headers = dict(ALL_HEADERS)
    headers["seq"] = i
    headers["label"] = "m%d" % i
    return pika.BasicProperties(
        content_type="application/x-roost-%d" % i,
        content_encoding="identity",
        headers=headers,
        delivery_mode=delivery_mode,
        priority=i % 10,
        correlation_id="corr-\u00e9-%d" % i,
        reply_to="reply.%d" % i,
        expiration="3600000",  # one hour: far beyond the test
        message_id="mid-%d" % i,
        timestamp=1700000000 + i,
        type="roost.durability",
        user_id="guest",  # must be the authenticated user
        app_id="roost-integration",
        cluster_id="cluster-%d" % i,
    )


def assert_same_properties(got, want, what=""):
    for name in PROPERTY_NAMES:
        rf.eq(getattr(got, name), getattr(want, name), "%sproperty %s" % (what, name))


def persistent(**kw):
    return pika.BasicProperties(delivery_mode=PERSISTENT, **kw)


def check_recovered(b):
    """The restarted broker logged its recovery summary; returns the line."""
    line = b.recovered_line()
    assert line is not None, "no stderr line containing 'recovered' after restart"
    print("#   %s" % line.strip())
    return line


def recovered_counts(line):
    """{'exchanges': n, 'queues': n, 'bindings': n, 'messages': n} parsed from the recovery
    line when it uses the documented format, else {}."""
    return {k: int(n) for n, k in re.findall(r"(\d+) (exchanges|queues|bindings|messages)\b", line)}


def open_channel(b, confirm=False):
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    if confirm:
        ch.confirm_delivery()
    return conn, ch


def message_count(conn, queue):
    """Ready messages of queue, or None if it does not exist (404; a fresh channel each time)."""
    ch = conn.channel()
    try:
        n = ch.queue_declare(queue, passive=True).method.message_count
    except pe.ChannelClosedByBroker as e:
        rf.check_reply(e.reply_code, e.reply_text, 404, "NOT_FOUND - no queue '%s' %s" % (queue, V))
        return None
    ch.close()
    return n


def exchange_exists(conn, name):
    ch = conn.channel()
    try:
        ch.exchange_declare(name, passive=True)
    except pe.ChannelClosedByBroker as e:
        rf.check_reply(e.reply_code, e.reply_text, 404, "NOT_FOUND - no exchange '%s' %s" % (name, V))
        return False
    ch.close()
    return True


def get_all(ch, queue, auto_ack=True, limit=100000):
    """basic.get until empty -> [(method, properties, body)]."""
    out = []
    while len(out) < limit:
        m, p, body = ch.basic_get(queue, auto_ack=auto_ack)
        if m is None:
            return out
        out.append((m, p, body))
    raise AssertionError("queue %r did not run dry after %d messages" % (queue, limit))


def bodies(msgs):
    return [b for _, _, b in msgs]


def expect_406(conn, fn_of_channel, text):
    ch = conn.channel()
    rf.expect_channel_error(lambda: fn_of_channel(ch), 406, text)


def consume_n(conn, ch, queue, n, prefetch, timeout=10.0):
    """Start a manual-ack consumer with this prefetch; wait until n deliveries arrived."""
    got = []
    ch.basic_qos(prefetch_count=prefetch)
    ch.basic_consume(queue, lambda c, m, p, body: got.append((m, p, body)), auto_ack=False)
    rf.wait_until(conn, lambda: len(got) >= n, timeout, "%d deliveries from %s" % (n, queue))
    return got


# ------------------------------------------------------------ routing fixtures

class Topology:
    """A set of exchanges, queues and bindings, with probes whose routing is checked."""

    def __init__(self, ch):
        self.ch = ch
        self.queues = {}     # label -> queue name (durable queues observed by probes)
        self.exchanges = {}  # label -> exchange name

    def exchange(self, label, kind, durable=True, **kw):
        name = rf.uniq("x-" + label)
        self.ch.exchange_declare(name, kind, durable=durable, **kw)
        self.exchanges[label] = name
        return name

    def queue(self, label, durable=True, observe=True, **kw):
        name = rf.uniq("q-" + label)
        self.ch.queue_declare(name, durable=durable, **kw)
        if observe:
            self.queues[label] = name
        return name

    def route(self, ch, probes):
        """probes: [(label, exchange, routing_key, headers)]. Publishes one persistent,
        confirmed message per probe (body = label), then drains every observed queue.
        Returns {probe label: sorted list of queue labels that got it}."""
        for label, x, key, headers in probes:
            ch.basic_publish(x, key, label.encode(), properties=persistent(headers=headers))
        seen = {label: [] for label, _, _, _ in probes}
        for qlabel, qname in sorted(self.queues.items()):
            for _, _, body in get_all(ch, qname):
                seen[body.decode()].append(qlabel)
        return {k: sorted(v) for k, v in seen.items()}


# ------------------------------------------------------------------ tests

def test_exchanges_queues_and_bindings_survive_graceful_restart():
    b = rf.start_broker()
    conn, ch = open_channel(b)
    t = Topology(ch)
    ae = t.exchange("ae", "fanout")
    xd = t.exchange("direct", "direct", arguments={"alternate-exchange": ae})
    xf = t.exchange("fanout", "fanout")
    xt = t.exchange("topic", "topic", arguments={"x-roost-note": {"nested": [1, "a", {"t": True}]}})
    xh = t.exchange("headers", "headers", arguments={"x-roost-note": "headers exchange"})
    xi = t.exchange("internal", "topic", internal=True)
    xad = t.exchange("autodel", "direct", auto_delete=True)
    xe2e = t.exchange("e2e-dest", "fanout")
    xnd = t.exchange("transient", "direct", durable=False)
    xnd2 = t.exchange("transient-e2e", "fanout", durable=False)

    q_ae = t.queue("ae")
    qd1 = t.queue("d1")
    qd2 = t.queue("d2")
    qd_args = t.queue("d-args")
    qf1 = t.queue("f1")
    qf2 = t.queue("f2")
    qt1 = t.queue("t1")
    qt2 = t.queue("t2")
    qt3 = t.queue("t3")
    qh_all = t.queue("h-all")
    qh_any = t.queue("h-any")
    qh_default = t.queue("h-default")
    q_e2e = t.queue("e2e")
    q_int = t.queue("int")
    q_ad = t.queue("ad")
    q_amq = t.queue("amq")
    q_x = t.queue("via-transient-x")
    q_y = t.queue("via-transient-e2e")
    q_nd = t.queue("transient", durable=False, observe=False)

    ch.queue_bind(q_ae, ae)
    ch.queue_bind(qd1, xd, "k1")
    ch.queue_bind(qd1, xd, "k2")
    ch.queue_bind(qd2, xd, "k1")
    ch.queue_bind(q_nd, xd, "k1")
    ch.queue_bind(qd_args, xd, "kargs", arguments={"a": 1})
    ch.queue_bind(qd_args, xd, "kargs", arguments={"a": 2})
    ch.queue_bind(qf1, xf)
    ch.queue_bind(qf2, xf, "ignored")
    ch.queue_bind(qt1, xt, "a.*.c")
    ch.queue_bind(qt2, xt, "a.#")
    ch.queue_bind(qt3, xt, "#.z")
    ch.queue_bind(qh_all, xh, arguments={"x-match": "all", "h1": "v1", "h2": 2})
    ch.queue_bind(qh_any, xh, arguments={"x-match": "any", "h1": "v1", "h3": "x"})
    ch.queue_bind(qh_default, xh, arguments={"only": "o"})
    ch.exchange_bind(xe2e, xt, "e2e.#", arguments={"x-e2e": "1"})
    ch.exchange_bind(xe2e, xt, "e2e.#", arguments={"x-e2e": "2"})
    ch.queue_bind(q_e2e, xe2e)
    ch.exchange_bind(xi, xt, "int.#")
    ch.queue_bind(q_int, xi, "int.#")
    ch.queue_bind(q_ad, xad, "ad")
    ch.queue_bind(q_amq, "amq.topic", "amq.#")
    ch.queue_bind(q_x, xnd, "k")
    ch.exchange_bind(xnd2, xt, "nd.#")
    ch.queue_bind(q_y, xnd2)

    probes = [
        ("D1", xd, "k1", None), ("D2", xd, "k2", None), ("D3", xd, "kargs", None),
        ("D4", xd, "nobody", None),
        ("F1", xf, "any", None),
        ("T1", xt, "a.b.c", None), ("T2", xt, "a", None), ("T3", xt, "q.z", None),
        ("T4", xt, "a.z", None), ("T5", xt, "e2e.x", None), ("T6", xt, "b.c", None),
        ("T7", xt, "int.a", None), ("T8", xt, "nd.x", None),
        ("H1", xh, "", {"h1": "v1", "h2": 2}), ("H2", xh, "", {"h1": "v1"}),
        ("H3", xh, "", {"h3": "x", "only": "o"}), ("H4", xh, "", {"h2": 2}), ("H5", xh, "", {}),
        ("A1", xad, "ad", None), ("M1", "amq.topic", "amq.x", None),
        ("Q1", "", qd1, None),
        ("N1", xnd, "k", None),
    ]
    before = {
        "D1": ["d1", "d2"], "D2": ["d1"], "D3": ["d-args"], "D4": ["ae"],
        "F1": ["f1", "f2"],
        "T1": ["t1", "t2"], "T2": ["t2"], "T3": ["t3"], "T4": ["t2", "t3"], "T5": ["e2e"], "T6": [],
        "T7": ["int"], "T8": ["via-transient-e2e"],
        "H1": ["h-all", "h-any"], "H2": ["h-any"], "H3": ["h-any", "h-default"], "H4": [], "H5": [],
        "A1": ["ad"], "M1": ["amq"], "Q1": ["d1"], "N1": ["via-transient-x"],
    }
    ch.confirm_delivery()
    rf.eq(t.route(ch, probes), before, "routing before the restart")
    rf.eq(len(get_all(ch, q_nd)), 1, "transient queue got D1")
    conn.close()

    b = rf.restart_broker(b)
    line = check_recovered(b)
    conn, ch = open_channel(b)
    for label, name in t.exchanges.items():
        rf.eq(exchange_exists(conn, name), label not in ("transient", "transient-e2e"), "exchange %s exists" % label)
    for label, name in t.queues.items():
        rf.eq(message_count(conn, name), 0, "durable queue %s" % label)
    rf.eq(message_count(conn, q_nd), None, "non-durable queue after restart")
    counts = recovered_counts(line)
    if counts:
        assert counts.get("exchanges", 0) >= 8, "recovered line counts %r: 8 durable exchanges were declared" % counts
        assert counts.get("queues", 0) >= 18, "recovered line counts %r: 18 durable queues were declared" % counts
        rf.eq(counts.get("messages"), 0, "recovered messages (all queues were drained)")

    # flags and the alternate-exchange argument came back: equal redeclares pass, others are 406
    ch.exchange_declare(xd, "direct", durable=True, arguments={"alternate-exchange": ae})
    ch.exchange_declare(xi, "topic", durable=True, internal=True)
    ch.exchange_declare(xad, "direct", durable=True, auto_delete=True)
    ch.exchange_declare(xh, "headers", durable=True)  # unknown arguments are not compared
    expect_406(conn, lambda c: c.exchange_declare(xd, "fanout", durable=True),
               "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' %s: "
               "received 'fanout' but current is 'direct'" % (xd, V))
    expect_406(conn, lambda c: c.exchange_declare(xf, "fanout", durable=False),
               "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' %s: "
               "received 'false' but current is 'true'" % (xf, V))
    expect_406(conn, lambda c: c.exchange_declare(xad, "direct", durable=True, auto_delete=False),
               "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange '%s' %s: "
               "received 'false' but current is 'true'" % (xad, V))
    expect_406(conn, lambda c: c.exchange_declare(xi, "topic", durable=True, internal=False),
               "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange '%s' %s: "
               "received 'false' but current is 'true'" % (xi, V))
    expect_406(conn, lambda c: c.exchange_declare(xd, "direct", durable=True, arguments={"alternate-exchange": "other"}),
               "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '%s' %s: "
               "received 'other' but current is '%s'" % (xd, V, ae))
    pc = conn.channel()
    pc.basic_publish(xi, "int.a", b"direct to internal")  # the channel error follows asynchronously
    rf.expect_channel_error(lambda: pc.queue_declare(q_int, passive=True), 403,
                            "ACCESS_REFUSED - cannot publish to internal exchange '%s' %s" % (xi, V))
    rf.eq(exchange_exists(conn, xi), True)

    # the transient exchanges come back empty-handed: redeclared, they have no bindings
    ch.exchange_declare(xnd, "direct", durable=False)
    ch.exchange_declare(xnd2, "fanout", durable=False)
    ch.queue_declare(q_nd, durable=False)  # a new, empty, unbound queue
    ch.confirm_delivery()
    after = dict(before, T8=[], N1=[])
    rf.eq(t.route(ch, probes), after, "routing after the restart")
    rf.eq(len(get_all(ch, q_nd)), 0, "re-created transient queue is not bound")

    # binding arguments came back exactly: unbinding with other arguments removes nothing
    ch.exchange_unbind(xe2e, xt, "e2e.#", arguments={"x-e2e": "3"})
    ch.queue_unbind(qd_args, xd, "kargs", arguments={"a": 3})
    rf.eq(t.route(ch, [("T5", xt, "e2e.x", None), ("D3", xd, "kargs", None)]),
          {"T5": ["e2e"], "D3": ["d-args"]}, "after unbinding with non-matching arguments")
    ch.exchange_unbind(xe2e, xt, "e2e.#", arguments={"x-e2e": "1"})
    ch.queue_unbind(qd_args, xd, "kargs", arguments={"a": 1})
    rf.eq(t.route(ch, [("T5", xt, "e2e.x", None), ("D3", xd, "kargs", None)]),
          {"T5": ["e2e"], "D3": ["d-args"]}, "one of two bindings removed")
    ch.exchange_unbind(xe2e, xt, "e2e.#", arguments={"x-e2e": "2"})
    ch.queue_unbind(qd_args, xd, "kargs", arguments={"a": 2})
    rf.eq(t.route(ch, [("T5", xt, "e2e.x", None), ("D3", xd, "kargs", None)]),
          {"T5": [], "D3": ["ae"]}, "both bindings removed")
    conn.close()

    # ... and the unbinds are durable too
    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b, confirm=True)
    rf.eq(t.route(ch, [("T5", xt, "e2e.x", None), ("D3", xd, "kargs", None), ("T1", xt, "a.b.c", None)]),
          {"T5": [], "D3": ["ae"], "T1": ["t1", "t2"]}, "routing after the second restart")


def test_queue_arguments_and_flags_survive_graceful_restart():
    b = rf.start_broker()
    conn, ch = open_channel(b)
    args = {"x-max-length": 1000000, "x-dead-letter-exchange": "dlx.somewhere",
            "x-dead-letter-routing-key": "dead", "x-roost-note": {"nested": [1, {"deeper": "x"}]}}
    q_args = rf.uniq("q-args")
    q_plain = rf.uniq("q-plain")
    q_ad = rf.uniq("q-autodelete")
    q_nd = rf.uniq("q-transient")
    ch.queue_declare(q_args, durable=True, arguments=args)
    ch.queue_declare(q_plain, durable=True)
    ch.queue_declare(q_ad, durable=True, auto_delete=True)  # never consumed from: stays
    ch.queue_declare(q_nd, durable=False)
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq(message_count(conn, q_nd), None, "non-durable queue")
    for q in (q_args, q_plain, q_ad):
        rf.eq(message_count(conn, q), 0, q)
    ok = ch.queue_declare(q_args, durable=True, arguments=args).method
    rf.eq((ok.queue, ok.message_count, ok.consumer_count), (q_args, 0, 0))
    ch.queue_declare(q_ad, durable=True, auto_delete=True)
    expect_406(conn, lambda c: c.queue_declare(q_args, durable=True, arguments=dict(args, **{"x-max-length": 5})),
               "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' %s: "
               "received '5' but current is '1000000'" % (q_args, V))
    no_dlx = {k: v for k, v in args.items() if k != "x-dead-letter-exchange"}
    expect_406(conn, lambda c: c.queue_declare(q_args, durable=True, arguments=no_dlx),
               "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue '%s' %s: "
               "received none but current is the value 'dlx.somewhere' of type 'longstr'" % (q_args, V))
    expect_406(conn, lambda c: c.queue_declare(q_plain, durable=True, arguments={"x-max-length": 10}),
               "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' %s: "
               "received the value '10' of type 'signedint' but current is none" % (q_plain, V))
    expect_406(conn, lambda c: c.queue_declare(q_plain, durable=False),
               "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' %s: "
               "received 'false' but current is 'true'" % (q_plain, V))
    expect_406(conn, lambda c: c.queue_declare(q_ad, durable=True, auto_delete=False),
               "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' %s: "
               "received 'false' but current is 'true'" % (q_ad, V))
    # the auto-delete queue still deletes itself after its first consumer leaves
    cch = conn.channel()
    tag = cch.basic_consume(q_ad, lambda *a: None)
    cch.basic_cancel(tag)
    rf.wait_queue_gone(conn, q_ad)


def test_persistent_messages_survive_with_properties_bodies_and_order():
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    q = rf.uniq("q-msgs")
    q_nd = rf.uniq("q-transient")
    x_nd = rf.uniq("x-transient")
    ch.queue_declare(q, durable=True)
    ch.queue_declare(q_nd, durable=False)
    ch.exchange_declare(x_nd, "fanout", durable=False)
    ch.queue_bind(q, x_nd)
    bodies_by_i = {
        0: b"",
        1: bytes(range(256)),
        2: "utf-8 \u00e9\u2603".encode("utf-8"),
        3: b"\x00" * 300000 + b"end",  # several body frames
        4: b"x" * 131072,
    }
    want = []
    n = 40
    for i in range(n):
        body = bodies_by_i.get(i, b"persistent-%05d" % i)
        props = full_properties(i)
        # persistent messages, interleaved with transient ones that must not survive
        ch.basic_publish("", q, body, properties=props)
        want.append((body, props))
        ch.basic_publish("", q, b"transient-dm1-%d" % i, properties=full_properties(i, delivery_mode=TRANSIENT))
        ch.basic_publish("", q, b"transient-none-%d" % i, properties=pika.BasicProperties(message_id="t%d" % i))
        ch.basic_publish("", q_nd, b"persistent-in-transient-queue-%d" % i, properties=persistent())
    # durability is the queue's: a persistent message through a non-durable exchange survives
    ch.basic_publish(x_nd, "", b"via-transient-exchange", properties=persistent(message_id="via"))
    want.append((b"via-transient-exchange", persistent(message_id="via")))
    rf.eq(message_count(conn, q), 3 * n + 1)
    rf.eq(message_count(conn, q_nd), n)
    conn.close()

    b = rf.restart_broker(b)
    line = check_recovered(b)
    counts = recovered_counts(line)
    if counts:
        rf.eq(counts.get("messages"), len(want), "messages in the recovery line")
    conn, ch = open_channel(b)
    rf.eq(message_count(conn, q_nd), None, "non-durable queue with persistent messages")
    rf.eq(exchange_exists(conn, x_nd), False, "non-durable exchange")
    rf.eq(message_count(conn, q), len(want), "persistent messages after restart")
    got = get_all(ch, q)
    rf.eq(len(got), len(want), "messages read back")
    for i, ((m, p, body), (wbody, wprops)) in enumerate(zip(got, want)):
        assert body == wbody, "message %d: body differs (%d bytes, want %d: %r...)" % (i, len(body), len(wbody), wbody[:32])
        assert_same_properties(p, wprops, "message %d: " % i)
        rf.eq(m.redelivered, False, "message %d redelivered" % i)
        rf.eq((m.exchange, m.routing_key), ("", q) if i < n else (x_nd, ""), "message %d exchange/key" % i)


def test_raw_content_header_is_byte_identical_after_restart():
    """RabbitMQ keeps a message's encoded properties: the content header comes back
    byte-for-byte as published, across a restart too (odd but valid encodings included)."""
    b = rf.start_broker()
    q = rf.uniq("q-raw")
    props = full_properties(7)
    chunks = props.encode()
    encoded = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    # a headers table with a byte-order of keys pika would not produce and rare types
    odd_headers = raw.table([("z", "b", -1), ("a", "s", -2), ("m", "f", 1.5), ("d", "d", 2.25),
                             ("u", "B", 200), ("x", "x", b"\x01\x02"), ("arr", "A", [("u", 7), ("V", None)])])
    odd = struct.pack(">H", 0x2000 | 0x1000) + odd_headers + b"\x02"  # headers + delivery_mode=2
    with raw.RawConnection(b.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send_method(1, raw.CONFIRM_SELECT, b"\x00")
        c.expect_method(1, raw.CONFIRM_SELECT_OK)
        c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, durable=True))
        c.expect_method(1, raw.QUEUE_DECLARE_OK)
        c.publish(1, "", q, b"first", properties=encoded)
        c.publish(1, "", q, b"second", properties=odd)
        acked = 0
        while acked < 2:
            _, m, args = c.read_method()
            rf.eq(m, raw.BASIC_ACK)
            tag, multiple = struct.unpack_from(">QB", args, 0)
            acked = tag if multiple else acked + 1
    b = rf.restart_broker(b)
    check_recovered(b)
    with raw.RawConnection(b.port) as c:
        c.handshake()
        c.open_channel(1)
        for body, want in ((b"first", encoded), (b"second", odd)):
            c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q, no_ack=True))
            c.expect_method(1, raw.BASIC_GET_OK)
            header, got_body = c.read_content(1)
            rf.eq(got_body, body)
            rf.eq(header[12:], want, "content header properties of %r" % body)


def test_message_in_two_queues_comes_back_in_both():
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    x = rf.uniq("x-fan")
    q1, q2, q3 = rf.uniq("q1"), rf.uniq("q2"), rf.uniq("q3-transient")
    ch.exchange_declare(x, "fanout", durable=True)
    for q, durable in ((q1, True), (q2, True), (q3, False)):
        ch.queue_declare(q, durable=durable)
        ch.queue_bind(q, x)
    for i in range(3):
        ch.basic_publish(x, "", b"shared-%d" % i, properties=persistent(message_id="s%d" % i))
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq((message_count(conn, q1), message_count(conn, q2), message_count(conn, q3)), (3, 3, None))
    # take one from q1 (acked): q2 must keep all three
    m, p, body = ch.basic_get(q1, auto_ack=False)
    rf.eq((body, p.message_id), (b"shared-0", "s0"))
    ch.basic_ack(m.delivery_tag)
    rf.eq(message_count(conn, q1), 2)
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq(bodies(get_all(ch, q2, auto_ack=False)), [b"shared-0", b"shared-1", b"shared-2"], "q2 after ack in q1")
    ch.close()
    ch = conn.channel()
    rf.wait_message_count(ch, q2, 3)  # the unacked gets above are requeued by the channel close
    rf.eq(bodies(get_all(ch, q1)), [b"shared-1", b"shared-2"], "q1")
    rf.eq(bodies(get_all(ch, q2)), [b"shared-0", b"shared-1", b"shared-2"], "q2 drained")
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq((message_count(conn, q1), message_count(conn, q2)), (0, 0), "both drained queues stay empty")


def test_acked_rejected_and_requeued_messages_after_restart():
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    q = rf.uniq("q-acks")
    ch.queue_declare(q, durable=True)
    for i in range(20):
        ch.basic_publish("", q, b"m%02d" % i, properties=persistent())
    gch = conn.channel()
    rf.eq([gch.basic_get(q, auto_ack=True)[2] for _ in range(2)], [b"m00", b"m01"])  # auto-ack: gone
    m, _, body = gch.basic_get(q)
    rf.eq(body, b"m02")
    gch.basic_ack(m.delivery_tag)                                   # acked: gone
    m, _, body = gch.basic_get(q)
    rf.eq(body, b"m03")
    gch.basic_nack(m.delivery_tag, requeue=False)                   # dropped (no DLX): gone
    m, _, body = gch.basic_get(q)
    rf.eq(body, b"m04")
    gch.basic_reject(m.delivery_tag, requeue=True)                  # requeued at the head
    m, _, body = rf.get_eventually(gch, q)
    rf.eq((body, m.redelivered), (b"m04", True))
    tags = [m.delivery_tag]
    for i in range(5, 10):
        m, _, body = gch.basic_get(q)
        rf.eq(body, b"m%02d" % i)
        tags.append(m.delivery_tag)
    gch.basic_ack(tags[-1], multiple=True)                          # m04..m09 acked at once: gone
    m, _, body = gch.basic_get(q)
    rf.eq(body, b"m10")
    gch.basic_nack(m.delivery_tag, requeue=True)                    # requeued: comes back redelivered
    rf.wait_message_count(gch, q, 10)
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    got = get_all(ch, q)
    rf.eq(bodies(got), [b"m%02d" % i for i in range(10, 20)], "messages left after restart")
    rf.eq([m.redelivered for m, _, _ in got], [True] + [False] * 9, "redelivered flags after restart")
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq(message_count(conn, q), 0, "auto-acked gets are durable too")


def test_purged_and_deleted_things_stay_gone():
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    q_purged = rf.uniq("q-purged")
    q_deleted = rf.uniq("q-deleted")
    q_renewed = rf.uniq("q-renewed")
    q_bound = rf.uniq("q-bound")
    q_unbound = rf.uniq("q-unbound")
    x_deleted = rf.uniq("x-deleted")
    x_keep = rf.uniq("x-keep")
    x_e2e_src = rf.uniq("x-e2e-src")
    for q in (q_purged, q_deleted, q_renewed, q_bound, q_unbound):
        ch.queue_declare(q, durable=True)
    for x, kind in ((x_deleted, "direct"), (x_keep, "direct"), (x_e2e_src, "topic")):
        ch.exchange_declare(x, kind, durable=True)
    ch.queue_bind(q_deleted, x_keep, "to-deleted")
    ch.queue_bind(q_bound, x_deleted, "k")
    ch.queue_bind(q_unbound, x_keep, "unbound")
    ch.exchange_bind(x_deleted, x_e2e_src, "#")
    for q in (q_purged, q_deleted, q_renewed):
        for i in range(5):
            ch.basic_publish("", q, b"old-%d" % i, properties=persistent())
    rf.eq(ch.queue_purge(q_purged).method.message_count, 5)
    ch.queue_delete(q_deleted)
    ch.exchange_delete(x_deleted)
    ch.queue_unbind(q_unbound, x_keep, "unbound")
    ch.queue_delete(q_renewed)
    ch.queue_declare(q_renewed, durable=True)  # same name, new queue: only the new message
    ch.basic_publish("", q_renewed, b"new", properties=persistent())
    conn.close()

    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b, confirm=True)
    rf.eq(message_count(conn, q_purged), 0, "purged queue")
    rf.eq(message_count(conn, q_deleted), None, "deleted queue")
    rf.eq(exchange_exists(conn, x_deleted), False, "deleted exchange")
    rf.eq(bodies(get_all(ch, q_renewed)), [b"new"], "re-created queue")
    # re-created with the old names, nothing of the old bindings comes back
    ch.queue_declare(q_deleted, durable=True)
    ch.exchange_declare(x_deleted, "direct", durable=True)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, body: returned.append(body))
    for x, key, body in ((x_keep, "to-deleted", b"r1"), (x_deleted, "k", b"r2"), (x_keep, "unbound", b"r3"),
                         (x_e2e_src, "k", b"r4")):
        try:
            ch.basic_publish(x, key, body, properties=persistent(), mandatory=True)
            raise AssertionError("%r via %s/%s was routed; its binding should be gone" % (body, x, key))
        except pe.UnroutableError:
            pass
    for q in (q_deleted, q_bound, q_unbound):
        rf.eq(message_count(conn, q), 0, q)


def test_exclusive_and_server_named_queues_after_graceful_restart():
    b = rf.start_broker()
    owner = rf.connect(port=b.port)
    och = owner.channel()
    och.confirm_delivery()
    q_excl_durable = rf.uniq("q-excl-durable")
    q_excl = rf.uniq("q-excl")
    och.queue_declare(q_excl_durable, durable=True, exclusive=True)
    och.queue_declare(q_excl, durable=False, exclusive=True)
    q_gen_excl = och.queue_declare("", durable=True, exclusive=True).method.queue
    q_gen_durable = och.queue_declare("", durable=True).method.queue
    assert q_gen_durable.startswith("amq.gen-"), q_gen_durable
    for q in (q_excl_durable, q_gen_excl, q_gen_durable):
        och.basic_publish("", q, b"persistent", properties=persistent())
    # the owner is still connected when the broker goes down
    b = rf.restart_broker(b)
    check_recovered(b)
    conn, ch = open_channel(b)
    rf.eq(message_count(conn, q_excl_durable), None, "durable exclusive queue")
    rf.eq(message_count(conn, q_excl), None, "exclusive queue")
    rf.eq(message_count(conn, q_gen_excl), None, "server-named durable exclusive queue")
    rf.eq(message_count(conn, q_gen_durable), 1, "server-named durable (not exclusive) queue")
    rf.eq(bodies(get_all(ch, q_gen_durable)), [b"persistent"])


def test_exclusive_queues_gone_and_definitions_kept_after_crash():
    b = rf.start_broker()
    owner = rf.connect(port=b.port)
    och = owner.channel()
    och.confirm_delivery()
    q_excl_durable = rf.uniq("q-excl-durable")
    q_durable = rf.uniq("q-durable")
    x = rf.uniq("x-durable")
    och.queue_declare(q_excl_durable, durable=True, exclusive=True)
    q_gen_excl = och.queue_declare("", durable=True, exclusive=True).method.queue
    och.queue_declare(q_durable, durable=True, arguments={"x-max-length": 77})
    och.exchange_declare(x, "topic", durable=True)
    och.queue_bind(q_durable, x, "crash.#")
    for q in (q_excl_durable, q_gen_excl):
        och.basic_publish("", q, b"persistent", properties=persistent())
    och.basic_publish(x, "crash.1", b"confirmed", properties=persistent())  # confirmed: on disk
    b = rf.restart_broker(b, kill=True)
    check_recovered(b)
    conn, ch = open_channel(b, confirm=True)
    rf.eq(message_count(conn, q_excl_durable), None, "durable exclusive queue after a crash")
    rf.eq(message_count(conn, q_gen_excl), None, "server-named durable exclusive queue after a crash")
    rf.eq(exchange_exists(conn, x), True, "durable exchange after a crash")
    expect_406(conn, lambda c: c.queue_declare(q_durable, durable=True, arguments={"x-max-length": 1}),
               "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' %s: "
               "received '1' but current is '77'" % (q_durable, V))
    ch.basic_publish(x, "crash.2", b"routed", properties=persistent())
    rf.eq(bodies(get_all(ch, q_durable)), [b"confirmed", b"routed"], "binding and message after a crash")
    # the exclusive queue's name is free again
    ch.queue_declare(q_excl_durable, durable=True, exclusive=True)


def _unacked_then_restart(kill):
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    q = rf.uniq("q-unacked")
    ch.queue_declare(q, durable=True)
    n = 12
    for i in range(n):
        ch.basic_publish("", q, b"m%02d" % i, properties=persistent(message_id="id%d" % i))
    cconn = rf.connect(port=b.port)
    cch = cconn.channel()
    got = consume_n(cconn, cch, q, 4, prefetch=4)
    rf.eq(bodies(got), [b"m00", b"m01", b"m02", b"m03"])
    rf.eq(message_count(conn, q), n - 4, "ready messages while 4 are unacked")
    if kill:
        # barrier: a persistent message confirmed after the deliveries were made; the broker
        # writes in order, so the deliveries' state is on disk once this is confirmed
        ch.basic_publish("", q, b"barrier", properties=persistent(message_id="barrier"))
    b = rf.restart_broker(b, kill=kill)
    check_recovered(b)
    conn, ch = open_channel(b)
    want = [b"m%02d" % i for i in range(n)] + ([b"barrier"] if kill else [])
    rf.eq(message_count(conn, q), len(want), "messages after restart")
    got = get_all(ch, q)
    rf.eq(bodies(got), want, "order after restart")
    never = NEVER_DELIVERED_REDELIVERED_AFTER_CRASH if kill else False
    rf.eq([m.redelivered for m, _, _ in got], [True] * 4 + [never] * (len(want) - 4), "redelivered flags")
    rf.eq([p.message_id for _, p, _ in got], ["id%d" % i for i in range(n)] + (["barrier"] if kill else []))


def test_unacked_at_graceful_shutdown_come_back_redelivered():
    _unacked_then_restart(kill=False)


def test_unacked_at_crash_come_back_redelivered():
    _unacked_then_restart(kill=True)


def test_restart_of_restart_keeps_everything():
    """Recovery writes nothing that changes what the next recovery sees."""
    b = rf.start_broker()
    conn, ch = open_channel(b, confirm=True)
    q = rf.uniq("q-stable")
    x = rf.uniq("x-stable")
    ch.exchange_declare(x, "direct", durable=True)
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 500})
    ch.queue_bind(q, x, "k")
    for i in range(50):
        ch.basic_publish(x, "k", b"msg-%d" % i, properties=persistent(message_id=str(i)))
    conn.close()
    for kill in (False, True, False):
        b = rf.restart_broker(b, kill=kill)
        check_recovered(b)
    conn, ch = open_channel(b, confirm=True)
    ch.basic_publish(x, "k", b"after", properties=persistent())
    got = get_all(ch, q)
    rf.eq(bodies(got), [b"msg-%d" % i for i in range(50)] + [b"after"])
    rf.eq([m.redelivered for m, _, _ in got], [NEVER_DELIVERED_REDELIVERED_AFTER_CRASH] * 50 + [False])


if __name__ == "__main__":
    rf.main(test_timeout=60, total_timeout=270, file_broker=False)
