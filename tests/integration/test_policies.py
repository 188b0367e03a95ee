#!/usr/bin/python3
"""Policies and operator policies (RabbitMQ 3.10), set over HTTP and with rabbitmqadmin, seen
through pika: applied at once to queues and exchanges that exist and to those declared
later, precedence between queue arguments, policy and operator policy, the admin API's
fields and refusals, and persistence across a restart and a SIGKILL.

Every expectation here was read off a private RabbitMQ 3.10.8 node
(run_against_rabbitmq.sh test_policies.py passes), among them:
- numeric limits (message-ttl, expires, max-length, max-length-bytes, delivery-limit): the
  lowest of the x-argument, the policy and the operator policy applies;
- dead-letter-exchange, dead-letter-routing-key, overflow, alternate-exchange: the argument
  wins over the policy, each key on its own;
- a new max-length trims the queue at once (drop-head, dead-lettered as maxlen); a new
  message-ttl applies to messages that arrive after it, not to those already in the queue;
- one policy applies (the highest priority); equal priorities: the same one whatever the order
  they were set in (RabbitMQ: its table order; Roost: the name that sorts first);
- queues list "policy" / "operator_policy" (null without) and "effective_policy_definition"
  ({} without); exchanges list "policy" only when one applies. RabbitMQ fills queue fields
  from its statistics, every 5 s: the tests poll for them.
Policies are vhost-wide, so every test uses names of its own and removes its policies.
"""
import json
import os
import re
import subprocess
import time

import pika
import pika.exceptions as pe

import admin_http
import roost_fixture as rf
from admin_http import q

RABBITMQADMIN = "/usr/bin/rabbitmqadmin"
STATS_TIMEOUT = 15.0  # RabbitMQ's queue fields lag by up to its 5 s statistics interval


def api(method, path, body=None, port=None):
    """(status, JSON body) as guest."""
    return admin_http.api(method, path, body, port=port)[:2]


class Policies:
    """Sets policies for one test and removes them afterwards (the node is shared)."""

    def __init__(self, port=None):
        self.port = port
        self.set = []

    def put(self, name, pattern, definition, priority=0, apply_to="all", kind="policies"):
        status, body = api("PUT", "/api/%s/%%2F/%s" % (kind, q(name)),
                           {"pattern": pattern, "definition": definition, "priority": priority,
                            "apply-to": apply_to}, port=self.port)
        assert status in (201, 204), "PUT %s %s -> %d %r" % (kind, name, status, body)
        self.set.append((kind, name))
        return status

    def op(self, name, pattern, definition, priority=0):
        return self.put(name, pattern, definition, priority, "queues", "operator-policies")

    def delete(self, name, kind="policies"):
        status, body = api("DELETE", "/api/%s/%%2F/%s" % (kind, q(name)), port=self.port)
        assert status == 204, "DELETE %s %s -> %d %r" % (kind, name, status, body)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for kind, name in self.set:
            api("DELETE", "/api/%s/%%2F/%s" % (kind, q(name)), port=self.port)


def prefix(what):
    """A unique name prefix and the pattern matching exactly the names that start with it."""
    p = rf.uniq(what) + "."
    return p, "^" + re.escape(p)


def count(ch, name):
    return ch.queue_declare(name, passive=True).method.message_count


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.02)


def wait_count(ch, name, expected, timeout=5.0):
    rf.wait_message_count(ch, name, expected, timeout)


def queue_fields(name, expect_policy, port=None):
    """The queue's policy fields once they show expect_policy (polled: RabbitMQ's lag)."""
    def current():
        status, body = api("GET", "/api/queues/%2F/" + q(name), port=port)
        assert status == 200, (status, body)
        if "policy" in body and body["policy"] == expect_policy:
            return body
        return None
    return wait_for(current, STATS_TIMEOUT, "queue %s to show policy %r" % (name, expect_policy))


def publish_n(ch, name, n, start=0):
    for i in range(start, start + n):
        ch.basic_publish("", name, str(i).encode())


def bodies(ch, name):
    return [b for b, _ in rf.drain_bodies(ch, name)]


# ---------------------------------------------------------------- applying

def test_policy_applies_to_existing_and_new_queues_and_trims_on_set():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("apply")
    ch.queue_declare(p + "before", exclusive=True)
    publish_n(ch, p + "before", 10)
    wait_count(ch, p + "before", 10)
    with Policies() as pol:
        assert pol.put(p + "pol", pattern, {"max-length": 3}, apply_to="queues") == 201
        wait_count(ch, p + "before", 3)  # trimmed at once, from the head
        rf.eq(bodies(ch, p + "before"), [b"7", b"8", b"9"])
        ch.queue_declare(p + "after", exclusive=True)
        publish_n(ch, p + "after", 5)
        wait_count(ch, p + "after", 3)
        # A queue whose name does not match keeps everything.
        other = rf.uniq("unmatched")
        ch.queue_declare(other, exclusive=True)
        publish_n(ch, other, 5)
        wait_count(ch, other, 5)


def test_trim_on_set_dead_letters_the_head_as_maxlen():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("trim")
    dlx, target = rf.uniq("trim-dlx"), rf.uniq("trim-dead")
    ch.exchange_declare(dlx, "fanout", auto_delete=True)
    ch.queue_declare(target, exclusive=True)
    ch.queue_bind(target, dlx)
    ch.queue_declare(p + "q", exclusive=True)
    publish_n(ch, p + "q", 6)
    wait_count(ch, p + "q", 6)
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"max-length": 2, "dead-letter-exchange": dlx}, apply_to="queues")
        wait_count(ch, target, 4)
        dead = rf.drain_bodies(ch, target)
        rf.eq([b for b, _ in dead], [b"0", b"1", b"2", b"3"])
        death = dead[0][1].headers["x-death"][0]
        rf.eq((death["reason"], death["queue"]), ("maxlen", p + "q"))
        rf.eq(bodies(ch, p + "q"), [b"4", b"5"])


def test_message_ttl_policy_expires_new_messages_not_those_already_queued():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("ttl")
    dlx, target = rf.uniq("ttl-dlx"), rf.uniq("ttl-dead")
    ch.exchange_declare(dlx, "fanout", auto_delete=True)
    ch.queue_declare(target, exclusive=True)
    ch.queue_bind(target, dlx)
    ch.queue_declare(p + "old", exclusive=True)
    ch.basic_publish("", p + "old", b"queued before the policy")
    wait_count(ch, p + "old", 1)
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"message-ttl": 200, "dead-letter-exchange": dlx}, apply_to="queues")
        queue_fields(p + "old", p + "pol")  # the old queue has taken the policy
        ch.queue_declare(p + "new", exclusive=True)
        ch.basic_publish("", p + "new", b"published after the policy")
        wait_count(ch, target, 1, timeout=10)
        # More than the TTL has passed since the policy applied: the old message is still there.
        rf.eq(count(ch, p + "old"), 1)
        m, _, b = ch.basic_get(p + "old", auto_ack=True)
        rf.eq(b, b"queued before the policy")
        # A message arriving in the old queue now does expire.
        ch.basic_publish("", p + "old", b"after")
        wait_count(ch, target, 2, timeout=10)
        rf.eq(count(ch, p + "old"), 0)


def test_dead_letter_exchange_via_policy_and_cleared():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("dlx")
    dlx, target = rf.uniq("pol-dlx"), rf.uniq("pol-dead")
    ch.exchange_declare(dlx, "direct", auto_delete=True)
    ch.queue_declare(target, exclusive=True)
    ch.queue_bind(target, dlx, "rk")
    ch.queue_declare(p + "q", exclusive=True)
    publish_n(ch, p + "q", 2)
    wait_count(ch, p + "q", 2)
    with Policies() as pol:
        # Set after the messages arrived: it applies to the next one to leave.
        pol.put(p + "pol", pattern, {"dead-letter-exchange": dlx, "dead-letter-routing-key": "rk"})
        queue_fields(p + "q", p + "pol")  # RabbitMQ's queue takes it asynchronously

        def reject_one():
            m, _, _ = rf.get_eventually(ch, p + "q")
            ch.basic_reject(m.delivery_tag, requeue=False)
        reject_one()
        m, props, body = rf.get_eventually(ch, target, auto_ack=True)
        assert m is not None, "the rejected message did not reach the policy's dead-letter exchange"
        rf.eq(body, b"0")
        death = props.headers["x-death"][0]
        rf.eq((death["reason"], death["exchange"], death["routing-keys"]), ("rejected", "", [p + "q"]))
        pol.delete(p + "pol")
        queue_fields(p + "q", None)
        reject_one()
        wait_count(ch, p + "q", 0)
        rf.eq(count(ch, target), 0)


def test_alternate_exchange_via_policy_and_cleared():
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    p, pattern = prefix("ae")
    ae, caught = rf.uniq("pol-ae"), rf.uniq("caught")
    ch.exchange_declare(ae, "fanout", auto_delete=True)
    ch.queue_declare(caught, exclusive=True)
    ch.queue_bind(caught, ae)
    ch.exchange_declare(p + "x", "direct", auto_delete=False)
    try:
        with Policies() as pol:
            pol.put(p + "pol", pattern, {"alternate-exchange": ae}, apply_to="exchanges")
            publish_unroutable(ch, p + "x", "nowhere")
            wait_count(ch, caught, 1)
            # Declared after the policy: picks it up.
            ch.exchange_declare(p + "later", "topic", auto_delete=False)
            publish_unroutable(ch, p + "later", "no.binding")
            wait_count(ch, caught, 2)
            status, x = api("GET", "/api/exchanges/%2F/" + q(p + "x"))
            rf.eq(x.get("policy"), p + "pol")
            pol.delete(p + "pol")
            wait_for(lambda: returned(ch, p + "x", "nowhere"), 10, "an unroutable publish to be returned again")
            status, x = api("GET", "/api/exchanges/%2F/" + q(p + "x"))
            assert "policy" not in x, x
    finally:
        ch.exchange_delete(p + "x")
        ch.exchange_delete(p + "later")


def returned(ch, exchange, key):
    """Publishes a mandatory message on a confirm channel; True if it came back unroutable."""
    try:
        ch.basic_publish(exchange, key, b"probe", mandatory=True)
        return False
    except pe.UnroutableError:
        return True


def publish_unroutable(ch, exchange, key):
    """Publishes until the exchange's alternate exchange takes it (a policy may still be on its way)."""
    wait_for(lambda: not returned(ch, exchange, key), 10, "the alternate exchange to take an unroutable publish")


def test_operator_policy_lowers_a_limit_and_clearing_restores_the_argument():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("op")
    name = p + "q"
    ch.queue_declare(name, exclusive=True, arguments={"x-max-length": 5})
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"max-length": 10}, apply_to="queues")
        pol.op(p + "op", pattern, {"max-length": 3})
        publish_n(ch, name, 10)
        wait_count(ch, name, 3)
        fields = queue_fields(name, p + "pol")
        wait_for(lambda: queue_fields(name, p + "pol")["operator_policy"] == p + "op", STATS_TIMEOUT,
                 "operator_policy to show")
        rf.eq(queue_fields(name, p + "pol")["effective_policy_definition"], {"max-length": 3})
        pol.delete(p + "op", "operator-policies")
        pol.delete(p + "pol")
        wait_for(lambda: queue_fields(name, None)["operator_policy"] is None, STATS_TIMEOUT, "both policies gone")
        publish_n(ch, name, 10, start=10)
        wait_count(ch, name, 5)  # the argument's limit again
        rf.eq(bodies(ch, name), [b"15", b"16", b"17", b"18", b"19"])
        fields = queue_fields(name, None)
        rf.eq(fields["effective_policy_definition"], {})


def test_clearing_a_policy_restores_the_argument_behaviour():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("clear")
    name = p + "q"
    ch.queue_declare(name, exclusive=True, arguments={"x-max-length": 4})
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"max-length": 1})
        publish_n(ch, name, 6)
        wait_count(ch, name, 1)
        pol.delete(p + "pol")
        queue_fields(name, None)
        publish_n(ch, name, 6, start=6)
        wait_count(ch, name, 4)


# ---------------------------------------------------------------- precedence

def test_message_ttl_lowest_of_argument_and_policy_applies():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("ttlmin")
    with Policies() as pol:
        for arg, pol_ttl in ((60000, 100), (100, 60000)):
            dlx, target = rf.uniq("min-dlx"), rf.uniq("min-dead")
            ch.exchange_declare(dlx, "fanout", auto_delete=True)
            ch.queue_declare(target, exclusive=True)
            ch.queue_bind(target, dlx)
            name = "%sq%d" % (p, arg)
            ch.queue_declare(name, exclusive=True,
                             arguments={"x-message-ttl": arg, "x-dead-letter-exchange": dlx})
            pol.put(p + "pol", pattern, {"message-ttl": pol_ttl})
            queue_fields(name, p + "pol")
            ch.basic_publish("", name, b"x")
            wait_count(ch, target, 1, timeout=10)  # well before the higher TTL of 60 s
            pol.delete(p + "pol")


def wait_or_none(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_max_length_lowest_of_argument_policy_and_operator_policy():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("lenmin")
    cases = [(5, 10, 3, 3), (3, 10, 5, 3), (10, 3, 5, 3), (None, 10, 4, 4), (6, None, 4, 4), (4, None, 6, 4),
             (2, 5, None, 2), (5, 2, None, 2)]
    with Policies() as pol:
        for i, (arg, pol_len, op_len, expect) in enumerate(cases):
            name = "%sq%d" % (p, i)
            ch.queue_declare(name, exclusive=True, arguments={"x-max-length": arg} if arg else {})
            if pol_len:
                pol.put(p + "pol", "^" + re.escape(name) + "$", {"max-length": pol_len})
            if op_len:
                pol.op(p + "op", "^" + re.escape(name) + "$", {"max-length": op_len})
            # RabbitMQ applies a policy asynchronously: publish until the limit holds.
            def limited():
                publish_n(ch, name, 12)
                return wait_or_none(lambda: count(ch, name) == expect, 1.0)
            wait_for(limited, 10, "queue %s limited to %d (arg %s, policy %s, operator %s)" %
                     (name, expect, arg, pol_len, op_len))
            for kind, n in (("policies", p + "pol"), ("operator-policies", p + "op")):
                api("DELETE", "/api/%s/%%2F/%s" % (kind, q(n)))


def test_overflow_dead_letter_and_routing_key_arguments_win_over_the_policy():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("argwins")
    ex = rf.uniq("argwins-dlx")
    ch.exchange_declare(ex, "direct", auto_delete=True)
    dead = {}
    for key in ("arg", "pol"):
        dead[key] = rf.uniq("dead-" + key)
        ch.queue_declare(dead[key], exclusive=True)
        ch.queue_bind(dead[key], ex, key)
    pol_ex = rf.uniq("argwins-pol-dlx")
    ch.exchange_declare(pol_ex, "fanout", auto_delete=True)
    pol_dead = rf.uniq("dead-pol-ex")
    ch.queue_declare(pol_dead, exclusive=True)
    ch.queue_bind(pol_dead, pol_ex)
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"overflow": "drop-head", "dead-letter-exchange": pol_ex,
                                     "dead-letter-routing-key": "pol"})
        # overflow: the argument's reject-publish, not the policy's drop-head.
        full = p + "full"
        ch.queue_declare(full, exclusive=True, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
        publish_n(ch, full, 5)
        rf.eq(bodies(ch, full), [b"0", b"1"])
        # dead-letter-exchange and routing key: the arguments'.
        both = p + "both"
        ch.queue_declare(both, exclusive=True,
                         arguments={"x-dead-letter-exchange": ex, "x-dead-letter-routing-key": "arg"})
        ch.basic_publish("", both, b"b")
        m, _, _ = rf.get_eventually(ch, both)
        ch.basic_reject(m.delivery_tag, requeue=False)
        wait_count(ch, dead["arg"], 1)
        # Only the exchange as argument: the policy's routing key applies.
        exonly = p + "exonly"
        ch.queue_declare(exonly, exclusive=True, arguments={"x-dead-letter-exchange": ex})
        def rejected_reaches_pol_key():
            ch.basic_publish("", exonly, b"e")
            m, _, _ = rf.get_eventually(ch, exonly)
            ch.basic_reject(m.delivery_tag, requeue=False)
            return wait_or_none(lambda: count(ch, dead["pol"]) > 0, 1.0)
        wait_for(rejected_reaches_pol_key, 10, "the policy's routing key with the argument's exchange")
        rf.eq(count(ch, pol_dead), 0)
        # No arguments: the policy's exchange and key.
        bare = p + "bare"
        ch.queue_declare(bare, exclusive=True)
        def rejected_reaches_pol_exchange():
            ch.basic_publish("", bare, b"n")
            m, _, _ = rf.get_eventually(ch, bare)
            ch.basic_reject(m.delivery_tag, requeue=False)
            return wait_or_none(lambda: count(ch, pol_dead) > 0, 1.0)
        wait_for(rejected_reaches_pol_exchange, 10, "the policy's dead-letter exchange")


def test_alternate_exchange_argument_wins_over_the_policy():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("aewins")
    targets = {}
    for key in ("arg", "pol"):
        x = rf.uniq("ae-" + key)
        ch.exchange_declare(x, "fanout", auto_delete=True)
        targets[key] = rf.uniq("caught-" + key)
        ch.queue_declare(targets[key], exclusive=True)
        ch.queue_bind(targets[key], x)
        targets[key + "-x"] = x
    ch.exchange_declare(p + "x", "direct", arguments={"alternate-exchange": targets["arg-x"]})
    try:
        with Policies() as pol:
            pol.put(p + "pol", pattern, {"alternate-exchange": targets["pol-x"]}, apply_to="exchanges")
            ch.basic_publish(p + "x", "nowhere", b"u")
            wait_count(ch, targets["arg"], 1)
            rf.eq(count(ch, targets["pol"]), 0)
    finally:
        ch.exchange_delete(p + "x")


def test_priority_and_ties():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("prio")
    with Policies() as pol:
        # The higher priority applies alone: its definition has no max-length, so none applies.
        pol.put(p + "lo", pattern, {"max-length": 1}, priority=0)
        pol.put(p + "hi", pattern, {"message-ttl": 60000}, priority=5)
        ch.queue_declare(p + "q", exclusive=True)
        publish_n(ch, p + "q", 3)
        wait_count(ch, p + "q", 3)
        fields = queue_fields(p + "q", p + "hi")
        rf.eq(fields["effective_policy_definition"], {"message-ttl": 60000})
        pol.delete(p + "hi")
        wait_count(ch, p + "q", 1)  # the lower one takes over and trims
    # Equal priorities: the same winner whichever was set first (the same names, set in
    # the opposite order; RabbitMQ's choice depends on the names, so they must not change).
    ch.confirm_delivery()
    t, tie_pattern = prefix("tie")
    winners = []
    for round, order in enumerate((("a", "b", "c"), ("c", "b", "a"))):
        with Policies() as pol:
            for name in order:
                pol.put(t + name, tie_pattern, {"max-length": "abc".index(name) + 1})
            queue = "%sq%d" % (t, round)
            ch.queue_declare(queue, exclusive=True)
            publish_n(ch, queue, 5)  # confirmed: each went through the queue's limit
            winners.append(count(ch, queue))
    rf.eq(winners[0], winners[1], "tie winner independent of the order of setting")
    assert winners[0] in (1, 2, 3), winners


# ---------------------------------------------------------------- the admin API

def test_api_statuses_and_validation_texts():
    name = rf.uniq("valid")
    path = "/api/policies/%2F/" + q(name)
    try:
        status, _ = api("PUT", path, {"pattern": "^" + re.escape(name), "definition": {"max-length": 1}})
        rf.eq(status, 201)
        status, _ = api("PUT", path, {"pattern": "^" + re.escape(name), "definition": {"max-length": 2},
                                      "priority": 3, "apply-to": "queues"})
        rf.eq(status, 204)
        status, body = api("GET", path)
        rf.eq(body, {"vhost": "/", "name": name, "pattern": "^" + re.escape(name), "apply-to": "queues",
                     "definition": {"max-length": 2}, "priority": 3})
        assert body in api("GET", "/api/policies")[1]
        assert body in api("GET", "/api/policies/%2F")[1]
        cases = [
            ({"pattern": "a", "definition": {"message-ttl": -1}}, "-1 is not a valid message TTL\n"),
            ({"pattern": "a", "definition": {"message-ttl": "abc"}},
             "&lt;&lt;\"abc\"&gt;&gt; is not a valid message TTL\n"),
            ({"pattern": "a", "definition": {"expires": 0}}, "0 is not a valid queue expiry\n"),
            ({"pattern": "a", "definition": {"overflow": "foo"}},
             "&lt;&lt;\"foo\"&gt;&gt; is not a valid overflow value\n"),
            ({"pattern": "a", "definition": {"dead-letter-exchange": 5}},
             "5 is not a valid dead letter exchange name\n"),
            ({"pattern": "a", "definition": {"foo": 1, "bar": 2}},
             "[{&lt;&lt;\"bar\"&gt;&gt;,2},{&lt;&lt;\"foo\"&gt;&gt;,1}] are not recognised policy settings\n"),
            ({"pattern": "a", "definition": {"x-max-priority": 5}},
             "[{&lt;&lt;\"x-max-priority\"&gt;&gt;,5}] are not recognised policy settings\n"),
            ({"pattern": "a", "definition": {}}, "no policy provided\n"),
            ({"pattern": "(", "definition": {"message-ttl": -1}, "priority": "x", "apply-to": "foo"},
             "-1 is not a valid message TTL\n"
             "apply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'\n"
             "pattern should be regular expression but is invalid: {\"missing )\",1}\n"
             "priority should be a number, actually was &lt;&lt;\"x\"&gt;&gt;\n"),
        ]
        for body, text in cases:
            status, reply = api("PUT", "/api/policies/%2F/" + q(rf.uniq("bad")), body)
            rf.eq((status, reply), (400, {"error": "bad_request", "reason": "Validation failed\n\n" + text}),
                  json.dumps(body))
        status, reply = api("PUT", "/api/policies/%2F/" + q(rf.uniq("bad")), {"priority": 1})
        rf.eq((status, reply["reason"]), (400, "[{key_missing,pattern},{key_missing,definition}]"))
        # Operator policies: the limits only, and the texts are not HTML-escaped.
        status, reply = api("PUT", "/api/operator-policies/%2F/" + q(rf.uniq("bad")),
                            {"pattern": "a", "definition": {"overflow": "reject-publish"}})
        rf.eq((status, reply["reason"]), (400, "Validation failed\n\n[{<<\"overflow\">>,<<\"reject-publish\">>}] "
                                               "are not recognised policy settings\n"))
        status, reply = api("PUT", "/api/policies/no-such-vhost/x", {"pattern": "a", "definition": {"max-length": 1}})
        rf.eq((status, reply), (404, {"error": "not_found", "reason": "vhost_not_found"}))
        status, reply = api("GET", "/api/policies/%2F/" + q(rf.uniq("missing")))
        rf.eq((status, reply), (404, {"error": "Object Not Found", "reason": "Not Found"}))
    finally:
        status, _ = api("DELETE", path)
        rf.eq(status, 204)
    status, _ = api("DELETE", path)
    rf.eq(status, 404)


def test_queue_and_exchange_fields_with_and_without_policies():
    conn = rf.connect()
    ch = conn.channel()
    p, pattern = prefix("fields")
    plain = rf.uniq("plain")
    ch.queue_declare(plain, exclusive=True)
    fields = queue_fields(plain, None)
    rf.eq((fields["operator_policy"], fields["effective_policy_definition"]), (None, {}))
    with Policies() as pol:
        pol.put(p + "pol", pattern, {"message-ttl": 5000, "max-length": 10, "dead-letter-exchange": "dlx"},
                priority=1, apply_to="all")
        pol.op(p + "op", pattern, {"message-ttl": 3000, "max-length": 20, "expires": 100000})
        ch.queue_declare(p + "q", exclusive=True)
        ch.exchange_declare(p + "x", "direct", auto_delete=True)
        ch.queue_bind(p + "q", p + "x")  # keeps the auto-delete exchange alive
        def merged():
            f = queue_fields(p + "q", p + "pol")
            return f if f["operator_policy"] == p + "op" else None
        f = wait_for(merged, STATS_TIMEOUT, "both policies on the queue")
        rf.eq(f["effective_policy_definition"],
              {"dead-letter-exchange": "dlx", "expires": 100000, "max-length": 10, "message-ttl": 3000})
        listed = [i for i in api("GET", "/api/queues/%2F")[1] if i["name"] == p + "q"]
        rf.eq(listed[0]["policy"], p + "pol")
        rf.eq(api("GET", "/api/exchanges/%2F/" + q(p + "x"))[1].get("policy"), p + "pol")
        x = api("GET", "/api/exchanges/%2F/amq.direct")[1]
        assert "policy" not in x or not x["policy"].startswith(p), x


def test_rabbitmqadmin_declares_lists_and_deletes_policies():
    if not os.path.exists(RABBITMQADMIN):
        rf.skip("rabbitmqadmin is not installed (apt-get install rabbitmq-server)")
    p, pattern = prefix("rmqa")

    def admin(*args, check=True):
        cmd = [RABBITMQADMIN, "-H", rf.HOST, "-P", str(rf.http_port()), "-u", "guest", "-p", "guest"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check:
            assert r.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(args), r.returncode, r.stdout, r.stderr)
        return r

    try:
        admin("declare", "policy", "name=" + p + "pol", "pattern=" + pattern, 'definition={"max-length":5}',
              "priority=2", "apply-to=queues")
        admin("declare", "operator_policy", "name=" + p + "op", "pattern=" + pattern, 'definition={"max-length":3}')
        listed = json.loads(admin("-f", "raw_json", "list", "policies").stdout)
        mine = [i for i in listed if i["name"] == p + "pol"]
        rf.eq(mine, [{"vhost": "/", "name": p + "pol", "pattern": pattern, "apply-to": "queues",
                      "definition": {"max-length": 5}, "priority": 2}])
        assert p + "pol" in admin("list", "policies").stdout
        ops = json.loads(admin("-f", "raw_json", "list", "operator_policies").stdout)
        rf.eq([(i["name"], i["apply-to"], i["definition"]) for i in ops if i["name"] == p + "op"],
              [(p + "op", "all", {"max-length": 3})])
        bad = admin("declare", "policy", "name=" + p + "bad", "pattern=x", 'definition={"message-ttl":-1}',
                    check=False)
        assert bad.returncode != 0 and "-1 is not a valid message TTL" in bad.stdout + bad.stderr, bad
        conn = rf.connect()
        ch = conn.channel()
        ch.queue_declare(p + "q", exclusive=True)
        publish_n(ch, p + "q", 10)
        wait_count(ch, p + "q", 3)
        admin("delete", "operator_policy", "name=" + p + "op")
        admin("delete", "policy", "name=" + p + "pol")
        assert p + "pol" not in admin("list", "policies").stdout
    finally:
        for kind, n in (("policies", p + "pol"), ("operator-policies", p + "op")):
            api("DELETE", "/api/%s/%%2F/%s" % (kind, q(n)))


def api_as(user, password, method, path, body=None):
    return admin_http.api(method, path, body, user=user, password=password)[:2]


def test_who_may_read_and_change_policies():
    p, pattern = prefix("who")
    users = {p + "pm": "policymaker", p + "mg": "management"}
    body = {"pattern": pattern, "definition": {"max-length": 1}}
    try:
        for user, tag in users.items():
            rf.eq(api("PUT", "/api/users/" + q(user), {"password": "pw", "tags": tag})[0], 201)
            rf.eq(api("PUT", "/api/permissions/%2F/" + q(user), {"configure": ".*", "write": ".*", "read": ".*"})[0],
                  201)
        pm, mg = p + "pm", p + "mg"
        rf.eq(api_as(pm, "pw", "PUT", "/api/policies/%2F/" + q(p + "pol"), body)[0], 201)
        assert any(i["name"] == p + "pol" for i in api_as(mg, "pw", "GET", "/api/policies")[1])
        rf.eq(api_as(pm, "pw", "GET", "/api/policies/%2F/" + q(p + "pol"))[0], 200)
        # One policy, even read, takes the policymaker tag; a list does not.
        rf.eq(api_as(mg, "pw", "GET", "/api/policies/%2F/" + q(p + "pol")),
              (401, {"error": "not_authorised", "reason": "User not authorised to access object"}))
        rf.eq(api_as(mg, "pw", "PUT", "/api/policies/%2F/" + q(p + "pol"), body),
              (401, {"error": "not_authorised", "reason": "User not authorised to access object"}))
        rf.eq(api_as(mg, "pw", "DELETE", "/api/policies/%2F/" + q(p + "pol"))[0], 401)
        for user in (pm, mg):
            rf.eq(api_as(user, "pw", "PUT", "/api/operator-policies/%2F/" + q(p + "op"), body),
                  (401, {"error": "not_authorised", "reason": "Not administrator user"}))
            rf.eq(api_as(user, "pw", "GET", "/api/operator-policies")[0], 200)
            rf.eq(api_as(user, "pw", "GET", "/api/operator-policies/%2F/" + q(p + "none"))[0], 401)
        rf.eq(api_as(pm, "pw", "DELETE", "/api/policies/%2F/" + q(p + "pol"))[0], 204)
    finally:
        api("DELETE", "/api/policies/%2F/" + q(p + "pol"))
        for user in users:
            api("DELETE", "/api/users/" + q(user))


# ---------------------------------------------------------------- persistence

def _set_durable_policies(b, p, pattern):
    pol = Policies(port=b.http_port)
    pol.put(p + "pol", pattern, {"max-length": 2, "dead-letter-exchange": "nowhere"}, priority=4, apply_to="queues")
    pol.op(p + "op", pattern, {"message-ttl": 600000})
    pol.put(p + "ae", "^" + re.escape(p + "x"), {"alternate-exchange": p + "ae"}, apply_to="exchanges")
    return pol


def _check_after_restart(b, p, pattern):
    status, body = api("GET", "/api/policies/%2F/" + q(p + "pol"), port=b.http_port)
    rf.eq((status, body), (200, {"vhost": "/", "name": p + "pol", "pattern": pattern, "apply-to": "queues",
                                 "definition": {"dead-letter-exchange": "nowhere", "max-length": 2},
                                 "priority": 4}))
    status, body = api("GET", "/api/operator-policies/%2F/" + q(p + "op"), port=b.http_port)
    rf.eq((status, body["definition"]), (200, {"message-ttl": 600000}))
    status, fields = api("GET", "/api/queues/%2F/" + q(p + "q"), port=b.http_port)
    rf.eq((fields["policy"], fields["operator_policy"]), (p + "pol", p + "op"))
    status, x = api("GET", "/api/exchanges/%2F/" + q(p + "x"), port=b.http_port)
    rf.eq(x.get("policy"), p + "ae")
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    ch.confirm_delivery()
    publish_n(ch, p + "q", 5)
    rf.eq(count(ch, p + "q"), 2)
    ch.basic_publish(p + "x", "nowhere", b"to the policy's alternate exchange", mandatory=True)
    rf.eq(count(ch, p + "caught"), 1)
    conn.close()


def _durable_setup(b, p):
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(p + "q", durable=True)
    ch.exchange_declare(p + "x", "direct", durable=True)
    ch.exchange_declare(p + "ae", "fanout", durable=True)
    ch.queue_declare(p + "caught", durable=True)
    ch.queue_bind(p + "caught", p + "ae")
    for i in range(5):
        ch.basic_publish("", p + "q", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    conn.close()


def test_policies_survive_a_restart():
    b = rf.start_broker()
    p, pattern = prefix("restart")
    _set_durable_policies(b, p, pattern)
    _durable_setup(b, p)
    b = rf.restart_broker(b)
    _check_after_restart(b, p, pattern)
    # A policy cleared before a restart stays cleared.
    Policies(port=b.http_port).delete(p + "op", "operator-policies")
    b = rf.restart_broker(b)
    rf.eq(api("GET", "/api/operator-policies/%2F/" + q(p + "op"), port=b.http_port)[0], 404)
    status, fields = api("GET", "/api/queues/%2F/" + q(p + "q"), port=b.http_port)
    rf.eq((fields["policy"], fields["operator_policy"]), (p + "pol", None))


def test_policies_survive_kill_9():
    b = rf.start_broker()
    p, pattern = prefix("kill")
    _set_durable_policies(b, p, pattern)
    _durable_setup(b, p)
    b = rf.restart_broker(b, kill=True)
    _check_after_restart(b, p, pattern)


if __name__ == "__main__":
    rf.main()
