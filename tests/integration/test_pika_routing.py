#!/usr/bin/python3
"""Routing with pika: direct, topic, fanout, headers, e2e bindings, default exchange,
predeclared amq.* exchanges, alternate exchanges."""
import pika
import pika.exceptions as pe

import roost_fixture as rf


class Router:
    """One connection with a confirm-mode channel; queues named by a short label."""

    def __init__(self):
        self.conn = rf.connect()
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()
        self.queues = {}
        self.n = 0

    def exchange(self, kind, arguments=None, label=None):
        name = rf.uniq(label or kind)
        self.ch.exchange_declare(name, kind, auto_delete=False, arguments=arguments)
        return name

    def queue(self, label):
        name = rf.uniq("q-" + label)
        self.ch.queue_declare(name, exclusive=True)
        self.queues[label] = name
        return name

    def bind(self, label, exchange, key="", arguments=None):
        self.ch.queue_bind(self.queues[label], exchange, key, arguments=arguments)

    def route(self, exchange, key, headers=None):
        """Publish one message; return the sorted labels of the queues it reached
        (with a count per queue when it arrived more than once)."""
        self.n += 1
        body = b"msg-%d" % self.n
        self.ch.basic_publish(exchange, key, body, pika.BasicProperties(headers=headers))
        hit = []
        for label, q in sorted(self.queues.items()):
            while True:
                m, p, b = self.ch.basic_get(q, auto_ack=True)
                if m is None:
                    break
                assert b == body, "stale message %r in %s" % (b, label)
                hit.append(label)
        return hit

    def cleanup(self, *exchanges):
        for x in exchanges:
            self.ch.exchange_delete(x)


def test_direct_exchange():
    r = Router()
    x = r.exchange("direct")
    for label in ("a1", "a2", "b"):
        r.queue(label)
    r.bind("a1", x, "a")
    r.bind("a2", x, "a")
    r.bind("b", x, "b")
    r.bind("b", x, "bb")
    r.bind("b", x, "b")  # duplicate binding is idempotent
    rf.eq(r.route(x, "a"), ["a1", "a2"])
    rf.eq(r.route(x, "b"), ["b"])
    rf.eq(r.route(x, "bb"), ["b"])
    rf.eq(r.route(x, "c"), [])
    rf.eq(r.route(x, ""), [])
    rf.eq(r.route(x, "A"), [], "keys are case sensitive")
    r.ch.queue_unbind(r.queues["a2"], x, "a")
    rf.eq(r.route(x, "a"), ["a1"])
    r.cleanup(x)


def test_direct_queue_bound_twice_gets_one_copy():
    r = Router()
    x = r.exchange("topic")
    r.queue("q")
    r.bind("q", x, "a.*")
    r.bind("q", x, "*.b")
    r.bind("q", x, "#")
    rf.eq(r.route(x, "a.b"), ["q"])
    r.cleanup(x)


def test_topic_exchange_patterns():
    r = Router()
    x = r.exchange("topic")
    patterns = {
        "star_orange_star": "*.orange.*",
        "star_star_rabbit": "*.*.rabbit",
        "lazy_hash": "lazy.#",
        "hash": "#",
        "star": "*",
        "a_hash_b": "a.#.b",
        "hash_z": "#.z",
        "exact": "quick.brown.fox",
        "a_star_hash": "a.*.#",
        "hash_hash": "#.#",
        "empty": "",
    }
    for label, pattern in patterns.items():
        r.queue(label)
        r.bind(label, x, pattern)
    cases = {
        "quick.orange.rabbit": ["hash", "hash_hash", "star_orange_star", "star_star_rabbit"],
        "lazy.orange.elephant": ["hash", "hash_hash", "lazy_hash", "star_orange_star"],
        "quick.orange.fox": ["hash", "hash_hash", "star_orange_star"],
        "lazy.brown.fox": ["hash", "hash_hash", "lazy_hash"],
        "lazy.pink.rabbit": ["hash", "hash_hash", "lazy_hash", "star_star_rabbit"],
        "quick.brown.fox": ["exact", "hash", "hash_hash"],
        "orange": ["hash", "hash_hash", "star"],
        "quick.orange.male.rabbit": ["hash", "hash_hash"],
        "lazy.orange.male.rabbit": ["hash", "hash_hash", "lazy_hash"],
        "lazy": ["hash", "hash_hash", "lazy_hash", "star"],
        "a.b": ["a_hash_b", "a_star_hash", "hash", "hash_hash"],
        "a.x.y.b": ["a_hash_b", "a_star_hash", "hash", "hash_hash"],
        "a": ["hash", "hash_hash", "star"],
        "z": ["hash", "hash_hash", "hash_z", "star"],
        "y.z": ["hash", "hash_hash", "hash_z"],
        "": ["empty", "hash", "hash_hash"],
        "a..b": ["a_hash_b", "a_star_hash", "hash", "hash_hash"],
        ".": ["hash", "hash_hash"],
    }
    for key, expected in cases.items():
        rf.eq(r.route(x, key), sorted(expected), "routing key %r" % key)
    r.cleanup(x)


def test_topic_words_are_exact_not_prefixes():
    r = Router()
    x = r.exchange("topic")
    r.queue("q")
    r.bind("q", x, "stock.usd.*")
    rf.eq(r.route(x, "stock.usd.nyse"), ["q"])
    rf.eq(r.route(x, "stock.usdx.nyse"), [])
    rf.eq(r.route(x, "stock.usd"), [])
    rf.eq(r.route(x, "stock.usd.nyse.x"), [])
    rf.eq(r.route(x, "stock.usd."), ["q"], "empty last word matches *")
    r.cleanup(x)


def test_fanout_exchange_ignores_routing_key():
    r = Router()
    x = r.exchange("fanout")
    for label in ("f1", "f2", "f3"):
        r.queue(label)
    r.bind("f1", x, "")
    r.bind("f2", x, "whatever")
    r.bind("f3", x, "#")
    rf.eq(r.route(x, ""), ["f1", "f2", "f3"])
    rf.eq(r.route(x, "anything.at.all"), ["f1", "f2", "f3"])
    r.ch.queue_unbind(r.queues["f2"], x, "whatever")
    rf.eq(r.route(x, "k"), ["f1", "f3"])
    r.cleanup(x)


def test_headers_exchange_all_and_any():
    r = Router()
    x = r.exchange("headers")
    for label in ("all", "any", "default", "nokeys", "typed"):
        r.queue(label)
    r.bind("all", x, "", {"x-match": "all", "format": "pdf", "type": "report"})
    r.bind("any", x, "", {"x-match": "any", "format": "pdf", "type": "report"})
    r.bind("default", x, "", {"format": "pdf", "type": "report"})  # x-match defaults to all
    r.bind("nokeys", x, "", {"x-match": "all"})                    # matches everything
    r.bind("typed", x, "", {"x-match": "all", "n": 42})
    rf.eq(r.route(x, "", {"format": "pdf", "type": "report"}), ["all", "any", "default", "nokeys"])
    rf.eq(r.route(x, "", {"format": "pdf", "type": "report", "extra": 1}), ["all", "any", "default", "nokeys"])
    rf.eq(r.route(x, "", {"format": "pdf"}), ["any", "nokeys"])
    rf.eq(r.route(x, "", {"format": "zip", "type": "report"}), ["any", "nokeys"])
    rf.eq(r.route(x, "", {"format": "zip"}), ["nokeys"])
    rf.eq(r.route(x, "", None), ["nokeys"])
    rf.eq(r.route(x, "", {}), ["nokeys"])
    rf.eq(r.route(x, "ignored-key", {"format": "pdf", "type": "report"}), ["all", "any", "default", "nokeys"])
    rf.eq(r.route(x, "", {"n": 42}), ["nokeys", "typed"])
    rf.eq(r.route(x, "", {"n": "42"}), ["nokeys"], "value types must match too")
    rf.eq(r.route(x, "", {"n": 43}), ["nokeys"])
    r.cleanup(x)


def test_headers_exchange_x_keys_are_not_matched():
    r = Router()
    x = r.exchange("headers")
    r.queue("q")
    r.queue("qany")
    r.bind("q", x, "", {"x-match": "all", "x-ignored": "yes", "k": "v"})
    r.bind("qany", x, "", {"x-match": "any", "x-other": "yes"})
    rf.eq(r.route(x, "", {"k": "v"}), ["q"])
    rf.eq(r.route(x, "", {"x-other": "yes"}), [], "x- headers are ignored by any")
    r.cleanup(x)


def test_amq_match_is_a_headers_exchange():
    r = Router()
    r.queue("m")
    r.bind("m", "amq.match", "", {"x-match": "any", "tag": r.queues["m"]})
    rf.eq(r.route("amq.match", "", {"tag": r.queues["m"]}), ["m"])
    rf.eq(r.route("amq.match", "", {"tag": "other"}), [])
    r.ch.queue_unbind(r.queues["m"], "amq.match", "", {"x-match": "any", "tag": r.queues["m"]})


def test_exchange_to_exchange_bindings():
    r = Router()
    src = r.exchange("direct", label="src")
    mid = r.exchange("topic", label="mid")
    fan = r.exchange("fanout", label="fan")
    r.ch.exchange_bind(mid, src, "k1")      # destination, source, key
    r.ch.exchange_bind(fan, mid, "k1.#")
    for label in ("via_mid", "via_fan", "direct"):
        r.queue(label)
    r.bind("via_mid", mid, "*")
    r.bind("via_fan", fan)
    r.bind("direct", src, "k1")
    rf.eq(r.route(src, "k1"), ["direct", "via_fan", "via_mid"])
    rf.eq(r.route(src, "k2"), [])
    rf.eq(r.route(mid, "k1.x"), ["via_fan"])
    r.ch.exchange_unbind(fan, mid, "k1.#")
    rf.eq(r.route(src, "k1"), ["direct", "via_mid"])
    r.cleanup(src, mid, fan)


def test_exchange_binding_cycle_delivers_once():
    r = Router()
    a = r.exchange("fanout", label="a")
    b = r.exchange("fanout", label="b")
    r.ch.exchange_bind(b, a)
    r.ch.exchange_bind(a, b)
    r.queue("qa")
    r.queue("qb")
    r.bind("qa", a)
    r.bind("qb", b)
    rf.eq(r.route(a, ""), ["qa", "qb"])
    rf.eq(r.route(b, ""), ["qa", "qb"])
    r.cleanup(a, b)


def test_two_paths_to_one_queue_deliver_once():
    r = Router()
    a = r.exchange("fanout", label="a")
    b = r.exchange("fanout", label="b")
    r.ch.exchange_bind(b, a)
    r.queue("q")
    r.bind("q", a)
    r.bind("q", b)
    rf.eq(r.route(a, ""), ["q"])
    r.cleanup(a, b)


def test_default_exchange_routes_by_queue_name():
    r = Router()
    q = r.queue("d")
    r.queue("other")
    rf.eq(r.route("", q), ["d"])
    rf.eq(r.route("", "no-such-queue-" + q), [])
    rf.eq(r.route("", ""), [])


def test_default_exchange_cannot_be_bound():
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    rf.expect_channel_error(lambda: ch.queue_bind(q, "", q), 403,
                            "ACCESS_REFUSED - operation not permitted on the default exchange")
    ch = conn.channel()
    rf.expect_channel_error(lambda: ch.queue_unbind(q, "", q), 403,
                            "ACCESS_REFUSED - operation not permitted on the default exchange")


def test_predeclared_exchanges_exist():
    ch = rf.connect().channel()
    for name, kind in [("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"),
                       ("amq.headers", "headers"), ("amq.match", "headers")]:
        ch.exchange_declare(name, kind, passive=True)
        # a non-passive redeclare with the same (durable) properties is allowed
        ch.exchange_declare(name, kind, durable=True)
    # even a passive declare of the default exchange is refused (RabbitMQ 3.x)
    rf.expect_channel_error(lambda: ch.exchange_declare("", "direct", passive=True), 403,
                            "ACCESS_REFUSED - operation not permitted on the default exchange")


def test_predeclared_exchanges_route():
    r = Router()
    for label in ("d", "f", "t"):
        r.queue(label)
    r.bind("d", "amq.direct", r.queues["d"])
    r.bind("f", "amq.fanout")
    r.bind("t", "amq.topic", r.queues["t"] + ".#")
    rf.eq(r.route("amq.direct", r.queues["d"]), ["d"])
    rf.eq(r.route("amq.topic", r.queues["t"] + ".x.y"), ["t"])
    # amq.fanout is shared by every test run: only check our queue got it
    assert "f" in r.route("amq.fanout", "")
    r.ch.queue_unbind(r.queues["f"], "amq.fanout")


def test_alternate_exchange():
    r = Router()
    ae = r.exchange("fanout", label="ae")
    x = r.exchange("direct", arguments={"alternate-exchange": ae}, label="main")
    r.queue("main")
    r.queue("unrouted")
    r.bind("main", x, "good")
    r.bind("unrouted", ae)
    rf.eq(r.route(x, "good"), ["main"])
    rf.eq(r.route(x, "bad"), ["unrouted"])
    # mandatory publish that the AE routes is not returned
    r.ch.basic_publish(x, "bad", b"mandatory", mandatory=True)
    m, p, b = r.ch.basic_get(r.queues["unrouted"], auto_ack=True)
    rf.eq(b, b"mandatory")
    r.cleanup(x, ae)


def test_alternate_exchange_missing_or_unroutable_is_returned():
    r = Router()
    x = r.exchange("direct", arguments={"alternate-exchange": rf.uniq("missing-ae")}, label="main")
    ae2 = r.exchange("direct", label="ae2")
    y = r.exchange("direct", arguments={"alternate-exchange": ae2}, label="main2")
    for ex in (x, y):
        try:
            r.ch.basic_publish(ex, "nowhere", b"m", mandatory=True)
            raise AssertionError("expected basic.return for %s" % ex)
        except pe.UnroutableError as e:
            rf.eq(e.messages[0].method.reply_code, 312)
            rf.eq(e.messages[0].method.exchange, ex)
    r.cleanup(x, y, ae2)


def test_alternate_exchange_chain():
    r = Router()
    ae2 = r.exchange("fanout", label="ae2")
    ae1 = r.exchange("direct", arguments={"alternate-exchange": ae2}, label="ae1")
    x = r.exchange("topic", arguments={"alternate-exchange": ae1}, label="main")
    r.queue("end")
    r.bind("end", ae2)
    rf.eq(r.route(x, "no.match"), ["end"])
    r.cleanup(x, ae1, ae2)


def test_exchange_delete_removes_bindings():
    r = Router()
    x = r.exchange("fanout")
    r.queue("q")
    r.bind("q", x)
    rf.eq(r.route(x, ""), ["q"])
    r.ch.exchange_delete(x)
    r.ch.exchange_declare(x, "fanout")
    rf.eq(r.route(x, ""), [], "binding must not survive exchange deletion")
    r.cleanup(x)


def test_queue_delete_removes_bindings():
    r = Router()
    x = r.exchange("direct")
    q = r.queue("q")
    r.bind("q", x, "k")
    r.ch.queue_delete(q)
    r.ch.queue_declare(q, exclusive=True)
    rf.eq(r.route(x, "k"), [])
    r.cleanup(x)


def test_auto_delete_exchange_goes_with_last_binding():
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("adx")
    q = rf.uniq("q")
    ch.queue_declare(q, exclusive=True)
    ch.exchange_declare(x, "direct", auto_delete=True)
    ch.exchange_declare(x, "direct", passive=True)  # not deleted while it never had a binding
    ch.queue_bind(q, x, "k1")
    ch.queue_bind(q, x, "k2")
    ch.queue_unbind(q, x, "k1")
    ch.exchange_declare(x, "direct", passive=True)
    ch.queue_unbind(q, x, "k2")
    rf.expect_channel_error(lambda: ch.exchange_declare(x, "direct", passive=True), 404,
                            "NOT_FOUND - no exchange '%s' in vhost '/'" % x)


def test_internal_exchange_rejects_publish():
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("internal")
    ch.exchange_declare(x, "fanout", internal=True, auto_delete=False)
    ch.basic_publish(x, "", b"nope")
    rf.expect_channel_error(lambda: ch.queue_declare("", exclusive=True), 403,
                            "ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '/'" % x)
    ch = conn.channel()
    ch.exchange_delete(x)


def test_internal_exchange_reachable_via_e2e_binding():
    r = Router()
    x = r.exchange("fanout", label="front")
    inner = rf.uniq("inner")
    r.ch.exchange_declare(inner, "fanout", internal=True)
    r.ch.exchange_bind(inner, x)
    r.queue("q")
    r.bind("q", inner)
    rf.eq(r.route(x, ""), ["q"])
    r.cleanup(x, inner)


if __name__ == "__main__":
    rf.main()
