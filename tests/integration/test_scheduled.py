#!/usr/bin/python3
"""Scheduled (delayed) messages through the admin API (Roost's; RabbitMQ's delayed-message
plugin cannot list or change what it holds):

- GET /api/scheduled/{vhost}[/{exchange}] lists pending messages by due time with their
  target queues, content and filters, and a summary per exchange and due window;
- POST /api/scheduled/{vhost}/cancel, /reschedule (due_at or delay) and /release act by id
  or filter, and the stored schedule changes with them: after a kill -9 a cancelled message
  stays cancelled and a rescheduled one keeps its new due time;
- only messages of exchanges the caller may write to are changed.
"""
import time

import pika

import admin_http
import roost_fixture as rf
from admin_http import q as quote

HOUR_MS = 3600 * 1000


def setup(ch):
    x, q = rf.uniq("later"), rf.uniq("due")
    ch.exchange_declare(x, "x-delayed-message", durable=True, arguments={"x-delayed-type": "direct"})
    ch.queue_declare(q, durable=True)
    ch.queue_bind(q, x, "k")
    return x, q


def hold(ch, x, name, delay_ms):
    ch.basic_publish(x, "k", name.encode(),
                     pika.BasicProperties(delivery_mode=2, message_id=name, headers={"x-delay": delay_ms}))


def listing(port=None, exchange=None, **query):
    path = "/api/scheduled/%2F" + ("/" + quote(exchange) if exchange else "")
    if query:
        path += "?" + "&".join("%s=%s" % (k, quote(str(v))) for k, v in query.items())
    return admin_http.ok("GET", path, expect=200, port=port)


def names(page):
    return [m["properties"]["message_id"] for m in page["messages"]]


def act(verb, body, port=None, **kw):
    return admin_http.ok("POST", "/api/scheduled/%2F/" + verb, body, expect=200, port=port, **kw)


def ready(q, port=None):
    return admin_http.ok("GET", "/api/queues/%2F/" + quote(q), expect=200, port=port)["messages_ready"]


def test_list_cancel_reschedule_release_and_after_a_kill():
    admin_http.roost_only("the schedule API is Roost's")
    b = rf.start_broker()
    ch = rf.connect(port=b.port).channel()
    ch.confirm_delivery()
    x, q = setup(ch)
    for name, delay in (("c", 3 * HOUR_MS), ("a", HOUR_MS), ("b", 2 * HOUR_MS), ("d", 30 * 1000), ("e", 4 * HOUR_MS)):
        hold(ch, x, name, delay)
    page = listing(port=b.http_port, exchange=x)
    rf.eq(names(page), ["d", "a", "b", "c", "e"])
    rf.eq(page["total"], 5)
    first = page["messages"][0]
    rf.eq((first["exchange"], first["routing_key"], first["queues"], first["payload"]), (x, "k", [q], "d"))
    assert abs(first["due_at"] - (time.time() * 1000 + 30000)) < 20000, first["due_at"]
    rf.eq(page["due_within"], {"minute": 1, "hour": 2, "day": 5})
    rf.eq([(e["exchange"], e["messages"]) for e in page["by_exchange"]], [(x, 5)])
    rf.eq(names(listing(port=b.http_port, exchange=x, offset=1, limit=2)), ["a", "b"])
    rf.eq(names(listing(port=b.http_port, message_id="c")), ["c"])

    ids = {m["properties"]["message_id"]: m["id"] for m in page["messages"]}
    rf.eq(act("cancel", {"ids": [ids["b"]]}, port=b.http_port), {"cancelled": 1})
    rf.eq(act("release", {"filter": {"message_id": "d"}}, port=b.http_port), {"released": 1})
    admin_http.wait_for(lambda: ready(q, port=b.http_port) == 1, what="d released")
    later = int(time.time() * 1000) + 10 * HOUR_MS
    rf.eq(act("reschedule", {"ids": [ids["a"]], "due_at": later}, port=b.http_port), {"rescheduled": 1})
    rf.eq(names(listing(port=b.http_port)), ["c", "e", "a"])

    b = rf.restart_broker(b, kill=True)
    after = listing(port=b.http_port)
    rf.eq(names(after), ["c", "e", "a"])
    rf.eq(after["messages"][2]["due_at"], later)
    rf.eq(ready(q, port=b.http_port), 1)
    ch = rf.connect(port=b.port).channel()
    rf.eq(act("reschedule", {"filter": {"message_id": "e"}, "delay": 0}, port=b.http_port), {"rescheduled": 1})
    admin_http.wait_for(lambda: ready(q, port=b.http_port) == 2, what="e released")
    got = [rf.get_eventually(ch, q, auto_ack=True)[2] for _ in range(2)]
    rf.eq(got, [b"d", b"e"])


def test_refusals_and_permissions():
    admin_http.roost_only("the schedule API is Roost's")
    ch = rf.connect().channel()
    x, _ = setup(ch)
    hold(ch, x, "m", HOUR_MS)
    admin_http.refused("POST", "/api/scheduled/%2F/cancel", {}, reason="give ids or a filter ({} for every message)")
    admin_http.refused("POST", "/api/scheduled/%2F/reschedule", {"filter": {}},
                       reason="give due_at (ms since the epoch) or delay (ms)")
    admin_http.refused("POST", "/api/scheduled/%2F/cancel", {"ids": ["x"]},
                       reason="ids must be a list of scheduled message ids, as the list shows them")
    admin_http.refused("GET", "/api/scheduled/%2F/no-such-exchange", status=404)
    admin_http.refused("GET", "/api/scheduled/%2F?colour=red", reason="unknown filter 'colour'")
    user = admin_http.make_user(rf.uniq("scheduler"), tags="management")
    try:
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user), {"configure": "", "write": "^other$", "read": ".*"})
        rf.eq(act("cancel", {"filter": {}, "exchange": x}, user=user), {"cancelled": 0})
        rf.eq(names(listing(exchange=x)), ["m"])
        rf.eq(act("cancel", {"filter": {}, "exchange": x}), {"cancelled": 1})
        rf.eq(listing(exchange=x)["messages"], [])
    finally:
        admin_http.cleanup(users=[user])


if __name__ == "__main__":
    rf.main()
