#!/usr/bin/python3
"""The x-consistent-hash exchange with pika (RabbitMQ's rabbitmq_consistent_hash_exchange
plugin; the refusal texts were checked against a private RabbitMQ 3.10.8 node with the plugin
enabled):

- every message goes to exactly one bound queue; all messages of one routing key go to the
  same queue, in publish order, so per-key ordering across partitions works;
- shares follow the binding weights; binding a new queue only moves keys to that queue, and
  unbinding it moves them back;
- hash-header and hash-property (message_id, correlation_id, timestamp) hash those instead
  of the routing key; a missing header sends all such messages to one queue;
- the key -> queue mapping is the same after a restart (durable exchange, queues, bindings);
- binding keys that are not positive integers: 406 with the plugin's texts;
  hash-header together with hash-property, or an unknown property: 406."""
import collections

import pika

import roost_fixture as rf


def partitioned(ch, n, weights=None, args=None, durable=False):
    x = rf.uniq("chx")
    ch.exchange_declare(x, "x-consistent-hash", durable=durable, arguments=args or {})
    queues = []
    for i in range(n):
        q = ch.queue_declare(rf.uniq("part%d" % i), durable=durable).method.queue
        ch.queue_bind(q, x, str(weights[i] if weights else 1))
        queues.append(q)
    return x, queues


def drain_all(ch, queues):
    """{queue: [body, ...]} in delivery order, reading every queue empty with basic.get."""
    out = {}
    for q in queues:
        bodies = []
        while True:
            m, p, b = ch.basic_get(q, auto_ack=True)
            if m is None:
                break
            bodies.append(b)
        out[q] = bodies
    return out


def where_keys_go(ch, x, queues, keys, **props):
    # No confirms needed: the basic.gets after the publishes on the same channel see them all.
    for k in keys:
        ch.basic_publish(x, k, k.encode(), pika.BasicProperties(**props))
    placed = {}
    for q, bodies in drain_all(ch, queues).items():
        for b in bodies:
            placed[b.decode()] = q
    rf.eq(len(placed), len(keys), "every message routed exactly once")
    return placed


def test_each_key_sticks_to_one_queue_in_order():
    ch = rf.connect().channel()
    ch.confirm_delivery()
    x, queues = partitioned(ch, 4)
    keys = ["customer-%d" % i for i in range(100)]
    for seq in range(10):
        for k in keys:
            ch.basic_publish(x, k, ("%s:%d" % (k, seq)).encode())
    per_key = collections.defaultdict(list)
    for q, bodies in drain_all(ch, queues).items():
        for b in bodies:
            k, seq = b.decode().rsplit(":", 1)
            per_key[k].append((q, int(seq)))
    rf.eq(sorted(per_key), sorted(keys))
    used = set()
    for k, seen in per_key.items():
        rf.eq(len({q for q, _ in seen}), 1, "queues of key %s" % k)
        rf.eq([s for _, s in seen], list(range(10)), "order of key %s" % k)
        used.add(seen[0][0])
    rf.eq(len(used), 4, "every partition gets keys")


def test_shares_follow_weights():
    ch = rf.connect().channel()
    x, queues = partitioned(ch, 2, weights=[1, 3])
    placed = where_keys_go(ch, x, queues, ["k%d" % i for i in range(4000)])
    share = collections.Counter(placed.values())
    ratio = share[queues[1]] / share[queues[0]]
    # The ring places 160 points per unit of weight from a hash of each queue's name (random
    # here), so the weight-1 queue's share is 25% with a spread of about 1/sqrt(160) = 8% of
    # itself; it measured 19.8% once (ratio 4.05). The bounds are four spreads either way:
    # clearly 1:3, neither 1:1 nor 1:9.
    assert 2.0 < ratio < 4.9, "weights 1:3, shares %r" % share


def test_a_new_partition_only_takes_keys():
    ch = rf.connect().channel()
    x, queues = partitioned(ch, 3)
    keys = ["order-%d" % i for i in range(1500)]
    before = where_keys_go(ch, x, queues, keys)
    extra = ch.queue_declare(rf.uniq("extra")).method.queue
    ch.queue_bind(extra, x, "1")
    after = where_keys_go(ch, x, queues + [extra], keys)
    moved = [k for k in keys if after[k] != before[k]]
    assert all(after[k] == extra for k in moved), "keys only move to the new queue"
    assert 1500 / 4 * 0.6 < len(moved) < 1500 / 4 * 1.4, "about a quarter moved, got %d" % len(moved)
    ch.queue_unbind(extra, x, "1")
    rf.eq(where_keys_go(ch, x, queues, keys), before, "unbinding restores the mapping")


def test_hash_header():
    ch = rf.connect().channel()
    x, queues = partitioned(ch, 4, args={"hash-header": "customer"})
    ch.confirm_delivery()
    for i in range(200):
        ch.basic_publish(x, "rk-%d" % i, b"c%d" % (i % 10),
                         pika.BasicProperties(headers={"customer": "c%d" % (i % 10)}))
    homes = collections.defaultdict(set)
    for q, bodies in drain_all(ch, queues).items():
        for b in bodies:
            homes[b].add(q)
    rf.eq(len(homes), 10)
    assert all(len(qs) == 1 for qs in homes.values()), "one queue per header value, whatever the routing key"
    for i in range(20):
        ch.basic_publish(x, "rk-%d" % i, b"none")  # no header: one queue takes them all
    got = {q: len(b) for q, b in drain_all(ch, queues).items()}
    rf.eq(sorted(got.values()), [0, 0, 0, 20])


def test_hash_property_message_id():
    ch = rf.connect().channel()
    x, queues = partitioned(ch, 4, args={"hash-property": "message_id"})
    ch.confirm_delivery()
    for i in range(200):
        ch.basic_publish(x, "same-key", b"m%d" % (i % 20), pika.BasicProperties(message_id="m%d" % (i % 20)))
    homes = collections.defaultdict(set)
    for q, bodies in drain_all(ch, queues).items():
        for b in bodies:
            homes[b].add(q)
    assert all(len(qs) == 1 for qs in homes.values())
    assert len(set().union(*homes.values())) > 1, "message ids spread although the routing key is fixed"


def test_refusals_follow_the_plugin():
    conn = rf.connect()
    ch = conn.channel()
    x, queues = partitioned(ch, 1)
    for key, text in [("abc", '<<"abc">>'), ("1.5", '<<"1.5">>'), ("", "<<>>"), (" 2", '<<" 2">>')]:
        rf.expect_channel_error(lambda: conn.channel().queue_bind(queues[0], x, key), 406,
                                "PRECONDITION_FAILED - The binding key must be an integer: " + text)
    for key in ("0", "-1"):
        rf.expect_channel_error(lambda: conn.channel().queue_bind(queues[0], x, key), 406,
                                "PRECONDITION_FAILED - The binding key must be greater than 0")
    conn.channel().queue_bind(queues[0], x, "+3")
    conn.channel().queue_bind(queues[0], x, "1000000")
    rf.expect_channel_error(
        lambda: conn.channel().exchange_declare(rf.uniq("x"), "x-consistent-hash",
                                                arguments={"hash-header": "h", "hash-property": "message_id"}),
        406, "PRECONDITION_FAILED - hash-header and hash-property are mutually exclusive")
    rf.expect_channel_error(
        lambda: conn.channel().exchange_declare(rf.uniq("x"), "x-consistent-hash",
                                                arguments={"hash-property": "priority"}),
        406, "PRECONDITION_FAILED - Unsupported property: priority")


def test_mapping_survives_a_restart():
    b = rf.start_broker()
    ch = rf.connect(port=b.port).channel()
    x, queues = partitioned(ch, 5, durable=True)
    # Unrelated durable entities declared first shift internal ids after a restart.
    for i in range(3):
        ch.queue_declare(rf.uniq("other%d" % i), durable=True)
    keys = ["account-%d" % i for i in range(500)]
    before = where_keys_go(ch, x, queues, keys)
    ch.queue_delete(queues[0])
    queues = queues[1:]
    before = where_keys_go(ch, x, queues, keys)
    b = rf.restart_broker(b)
    ch = rf.connect(port=b.port).channel()
    rf.eq(where_keys_go(ch, x, queues, keys), before, "key -> queue after restart")


if __name__ == "__main__":
    rf.main()
