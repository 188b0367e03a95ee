#!/usr/bin/python3
"""Redriving dead letters through the admin API (Roost's; RabbitMQ needs a shovel and typed
queue names for this):

- GET /api/queues/{vhost}/{name}/redrive summarises what a queue holds to redrive: its
  dead-lettered messages by origin queue, reason and exchange;
- POST .../redrive sends them back to the exchange and routing keys of their most recent
  x-death entry, in order, with their x-death history kept; optionally only one reason or
  origin, at most `max`, to a chosen queue instead, paced by `max_rate`;
- progress is visible while it runs, and DELETE .../redrive cancels it: what was not yet
  moved stays;
- refusals: a running redrive, a missing target, a target without write permission.
"""
import pika

import admin_http
import roost_fixture as rf
from admin_http import q as quote


def redrive_path(name):
    return "/api/queues/%2F/" + quote(name) + "/redrive"


def counts(name):
    q = admin_http.ok("GET", "/api/queues/%2F/" + quote(name), expect=200)
    return q["messages_ready"]


def wait_ready(name, n):
    admin_http.wait_for(lambda: counts(name) == n, what="%d ready in %s" % (n, name))


def wait_state(name, state):
    return admin_http.wait_for(lambda: (lambda r: r if r["run"] and r["run"]["state"] == state else None)(
        admin_http.ok("GET", redrive_path(name), expect=200)), what="redrive of %s %s" % (name, state))


def setup(ch, n_rejected, n_expired=0):
    """orders (rejected ones) and slow (expired ones) dead-letter into dlq."""
    orders, slow, dlq = rf.uniq("orders"), rf.uniq("slow"), rf.uniq("dlq")
    ch.queue_declare(dlq)
    ch.queue_declare(orders, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.queue_declare(slow, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
                                      "x-message-ttl": 1})
    for i in range(n_rejected):
        ch.basic_publish("", orders, b"order-%03d" % i, pika.BasicProperties(message_id=str(i)))
    for i in range(n_rejected):
        m, _, _ = rf.get_eventually(ch, orders)
        ch.basic_reject(m.delivery_tag, requeue=False)
    for i in range(n_expired):
        ch.basic_publish("", slow, b"slow-%03d" % i)
    wait_ready(dlq, n_rejected + n_expired)
    return orders, slow, dlq


def consume(ch, queue, n):
    got = []
    for _ in range(n):
        m, props, body = rf.get_eventually(ch, queue, auto_ack=True)
        got.append((body.decode(), props.headers))
    return got


def roost_only():
    admin_http.roost_only("redrive is Roost's")


def test_redrive_returns_messages_to_where_they_died_in_order_with_their_history():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    orders, slow, dlq = setup(ch, 10, 3)
    summary = admin_http.ok("GET", redrive_path(dlq), expect=200)
    rf.eq(summary["run"], None)
    rf.eq((summary["dead_lettered"], summary["complete"]), (13, True))
    rf.eq(sorted((o["queue"], o["reason"], o["exchange"], o["messages"]) for o in summary["origins"]),
          sorted([(orders, "rejected", "", 10), (slow, "expired", "", 3)]))

    started = admin_http.ok("POST", redrive_path(dlq), {"reason": "rejected"}, expect=200)
    rf.eq(started["reason"], "rejected")
    done = wait_state(dlq, "finished")["run"]
    rf.eq((done["moved"], done["unroutable"], done["refused"]), (10, 0, 0))
    assert done["finished_at"] >= done["started_at"], done
    wait_ready(orders, 10)
    rf.eq(counts(dlq), 3)  # the expired ones were not asked for
    back = consume(ch, orders, 10)
    rf.eq([b for b, _ in back], ["order-%03d" % i for i in range(10)])
    death = back[0][1]["x-death"]
    rf.eq(len(death), 1)
    rf.eq((death[0]["queue"], death[0]["reason"], death[0]["count"], death[0]["routing-keys"]),
          (orders, "rejected", 1, [orders]))

    # To a chosen queue instead, at most two.
    parking = rf.uniq("parking")
    ch.queue_declare(parking)
    admin_http.ok("POST", redrive_path(dlq), {"queue": parking, "max": 2}, expect=200)
    rf.eq(wait_state(dlq, "finished")["run"]["moved"], 2)
    wait_ready(parking, 2)
    rf.eq([b for b, _ in consume(ch, parking, 2)], ["slow-000", "slow-001"])
    conn.close()


def test_a_paced_redrive_shows_its_progress_and_can_be_cancelled():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    orders, _, dlq = setup(ch, 60)
    admin_http.ok("POST", redrive_path(dlq), {"max_rate": 20}, expect=200)  # three seconds for all
    partway = admin_http.wait_for(lambda: (lambda r: r if 0 < r["run"]["moved"] < 60 else None)(
        admin_http.ok("GET", redrive_path(dlq), expect=200)), what="a redrive partway")
    rf.eq(partway["run"]["state"], "running")
    admin_http.refused("POST", redrive_path(dlq), {},
                       reason="a redrive of queue '%s' is running: DELETE .../redrive cancels it" % dlq)
    admin_http.ok("DELETE", redrive_path(dlq), expect=204)
    cancelled = admin_http.ok("GET", redrive_path(dlq), expect=200)["run"]
    rf.eq(cancelled["state"], "cancelled")
    moved = cancelled["moved"]
    assert 0 < moved < 60, cancelled
    wait_ready(orders, moved)
    rf.eq(counts(dlq), 60 - moved)
    # The rest is where it was, in order, and the next redrive takes it all.
    admin_http.refused("DELETE", redrive_path(dlq), status=404)
    admin_http.ok("POST", redrive_path(dlq), {}, expect=200)
    rf.eq(wait_state(dlq, "finished")["run"]["moved"], 60 - moved)
    wait_ready(orders, 60)
    rf.eq([b for b, _ in consume(ch, orders, 60)], ["order-%03d" % i for i in range(60)])
    conn.close()


def test_refusals_and_permissions():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    orders, _, dlq = setup(ch, 2)
    admin_http.refused("POST", redrive_path(dlq), {"queue": "no-such-queue"}, status=404)
    admin_http.refused("POST", redrive_path(dlq), {"queue": dlq},
                       reason="a queue's messages cannot be redriven to itself")
    admin_http.refused("POST", redrive_path(dlq), {"max": 0}, reason="max must be a positive integer")
    admin_http.refused("POST", redrive_path(dlq), {"colour": 1}, status=400)
    # May read the dead letters but not write where they came from: they stay, counted refused.
    user = admin_http.make_user(rf.uniq("redriver"), tags="management")
    try:
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user), {"configure": "", "write": "^nothing$", "read": ".*"})
        admin_http.ok("POST", redrive_path(dlq), {}, expect=200, user=user)
        run = wait_state(dlq, "finished")["run"]
        rf.eq((run["moved"], run["unroutable"]), (0, 2))
        rf.eq(counts(dlq), 2)
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user), {"configure": "", "write": "", "read": ""})
        admin_http.refused("POST", redrive_path(dlq), {}, status=401, user=user)
    finally:
        admin_http.cleanup(users=[user])
    conn.close()


if __name__ == "__main__":
    rf.main()
