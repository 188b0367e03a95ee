#!/usr/bin/python3
"""Inspecting and repairing a queue through the admin API (Roost's; RabbitMQ's only
way to look is "get", which takes messages and puts them back at the end):

- GET /api/queues/{vhost}/{name}/messages lists unacked messages (with the channel and
  consumer holding them) and then ready ones in delivery order, with ids, positions,
  delivery history and an x-death summary, paged by offset, from memory and from what is
  paged out to the store, filtered; it changes nothing (order, counts and redelivered
  flags are as before when the queue is consumed afterwards);
- POST .../messages/delete and .../messages/move take ready messages out by id or by
  filter, to a queue or through an exchange, keeping properties, body and persistence;
  unacked ones are skipped and counted;
- a move interrupted by kill -9 leaves each persistent message in exactly one of the
  two queues;
- permissions: read on the source, write on the target.
"""
import json

import pika

import admin_http
import roost_fixture as rf
from admin_http import q as quote

WINDOW = 50  # the paging brokers' --queue-window: most messages live only in the store


def messages_path(name, vhost="/"):
    return "/api/queues/%s/%s/messages" % (quote(vhost), quote(name))


def browse(name, port=None, **query):
    path = messages_path(name)
    if query:
        path += "?" + "&".join("%s=%s" % (k, quote(str(v))) for k, v in query.items())
    return admin_http.ok("GET", path, expect=200, port=port)


def payloads(page):
    return [m["payload"] for m in page["messages"]]


def body(i):
    return "body-%04d" % i


def publish(ch, queue, n, first=0, **props):
    for i in range(first, first + n):
        ch.basic_publish("", queue, body(i).encode(), pika.BasicProperties(message_id=str(i), **props))


def counts(name, port=None):
    q = admin_http.ok("GET", "/api/queues/%2F/" + quote(name), expect=200, port=port)
    return q["messages_ready"], q["messages_unacknowledged"]


def wait_counts(name, ready, unacked, port=None):
    admin_http.wait_for(lambda: counts(name, port) == (ready, unacked), what="%s: %d ready, %d unacked" % (name, ready, unacked))


def all_ready(name, port):
    """Every ready message's payload, page by page."""
    got, offset = [], 0
    while True:
        page = browse(name, port=port, limit=1000, offset=offset, state="ready")
        if not page["messages"]:
            return got
        got += payloads(page)
        offset = page["next_offset"]


def consume_all(ch, queue, n):
    """Every message of the queue through a consumer, acked: (body, redelivered) in order."""
    got = []
    ch.basic_qos(prefetch_count=100)
    tag = ch.basic_consume(queue, lambda c, m, p, b: (got.append((b.decode(), m.redelivered)),
                                                       c.basic_ack(m.delivery_tag)))
    rf.wait_until(ch.connection, lambda: len(got) >= n, what="%d deliveries" % n)
    ch.basic_cancel(tag)
    return got


def roost_only():
    admin_http.roost_only("browsing, deleting and moving messages is Roost's")


def test_browse_lists_unacked_then_ready_and_changes_nothing():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    q = rf.uniq("browse")
    ch.queue_declare(q)
    publish(ch, q, 30, headers={"kind": "order"})
    holder = rf.connect().channel()
    holder.basic_qos(prefetch_count=3)
    held = []
    holder.basic_consume(q, lambda c, m, p, b: held.append(m.delivery_tag), consumer_tag="holder")
    rf.wait_until(holder.connection, lambda: len(held) == 3, what="three deliveries held")
    wait_counts(q, 27, 3)

    page = browse(q, limit=5)
    rf.eq(payloads(page), [body(i) for i in range(5)])
    rf.eq([m["state"] for m in page["messages"]], ["unacked"] * 3 + ["ready"] * 2)
    rf.eq([m["position"] for m in page["messages"]], [0, 1, 2, 3, 4])
    rf.eq(page["next_offset"], 5)
    rf.eq(page["at_end"], False)
    first = page["messages"][0]
    rf.eq((first["consumer_tag"], first["delivery_tag"], first["redelivered"]), ("holder", 1, False))
    assert "(1)" in first["channel"], first["channel"]
    ready = page["messages"][3]
    rf.eq((ready["exchange"], ready["routing_key"], ready["payload_encoding"]), ("", q, "string"))
    rf.eq((ready["properties"]["message_id"], ready["properties"]["headers"]), ("3", {"kind": "order"}))
    rf.eq((ready["delivery_count"], ready["x_death"], ready["expires_at"]), (0, [], None))
    assert ready["id"].isdigit(), ready["id"]

    rf.eq(payloads(browse(q, state="ready", offset=25)), [body(28), body(29)])
    rf.eq(browse(q, state="ready", offset=25)["at_end"], True)
    rf.eq(payloads(browse(q, state="unacked")), [body(i) for i in range(3)])
    rf.eq(payloads(browse(q, offset=28, limit=100)), [body(28), body(29)])
    rf.eq(counts(q), (27, 3))

    holder.connection.close()  # the three go back to their places, redelivered
    wait_counts(q, 30, 0)
    got = consume_all(ch, q, 30)
    rf.eq(got, [(body(i), i < 3) for i in range(30)])
    conn.close()


def test_a_deep_paged_queue_is_browsed_from_the_store_without_changing_it():
    roost_only()
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    q = rf.uniq("deep")
    ch.queue_declare(q, durable=True)
    n = 3000
    for i in range(n):
        ch.basic_publish("", q, body(i).encode(), pika.BasicProperties(delivery_mode=2 if i % 2 else 1))
    wait_counts(q, n, 0, port=b.http_port)
    rf.eq(payloads(browse(q, port=b.http_port, offset=2500, limit=3)), [body(2500), body(2501), body(2502)])
    full = browse(q, port=b.http_port, offset=1000, limit=1000)
    rf.eq(payloads(full), [body(i) for i in range(1000, 2000)])
    rf.eq(full["next_offset"], 2000)
    rf.eq(browse(q, port=b.http_port, offset=n)["messages"], [])
    rf.eq(counts(q, port=b.http_port), (n, 0))
    rf.eq([b_ for b_, _ in consume_all(ch, q, n)], [body(i) for i in range(n)])
    conn.close()


def test_filters_choose_by_routing_properties_headers_body_and_history():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    x = rf.uniq("fx")
    q = rf.uniq("filtered")
    dlx_q = rf.uniq("dead")
    ch.exchange_declare(x, "topic")
    ch.queue_declare(dlx_q)
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlx_q})
    ch.queue_bind(q, x, "#")
    ch.basic_publish(x, "order.created", json.dumps({"order": {"id": 7}, "total": 12}).encode(),
                     pika.BasicProperties(message_id="a", correlation_id="c1", headers={"tenant": "acme", "n": 5}))
    ch.basic_publish(x, "order.paid", b"plain text with needle inside",
                     pika.BasicProperties(message_id="b", type="paid", app_id="shop"))
    ch.basic_publish(x, "user.created", json.dumps({"order": {"id": 8}}).encode(),
                     pika.BasicProperties(message_id="c", headers={"tenant": "other"}))
    wait_counts(q, 3, 0)

    def ids(**f):
        return [m["properties"]["message_id"] for m in browse(q, **f)["messages"]]

    rf.eq(ids(routing_key="order.paid"), ["b"])
    rf.eq(ids(exchange=x), ["a", "b", "c"])
    rf.eq(ids(correlation_id="c1"), ["a"])
    rf.eq(ids(type="paid", app_id="shop"), ["b"])
    rf.eq(ids(**{"header.tenant": "acme"}), ["a"])
    rf.eq(ids(**{"header.n": "5"}), ["a"])
    rf.eq(ids(has_header="tenant"), ["a", "c"])
    rf.eq(ids(body_contains="needle"), ["b"])
    rf.eq(ids(**{"body_json.order.id": "8"}), ["c"])
    rf.eq(ids(redelivered="false", min_delivery_count="0"), ["a", "b", "c"])
    rf.eq(ids(message_id="nope"), [])

    # Rejected into the dead-letter queue: the x-death summary, and filters on it.
    ch.basic_qos(prefetch_count=1)
    m, _, _ = rf.get_eventually(ch, q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    wait_counts(dlx_q, 1, 0)
    dead = browse(dlx_q)["messages"]
    rf.eq(len(dead), 1)
    rf.eq(dead[0]["x_death"], [{"queue": q, "reason": "rejected", "count": 1, "exchange": x,
                                "routing-keys": ["order.created"]}])
    rf.eq(len(browse(dlx_q, death_reason="rejected", death_queue=q)["messages"]), 1)
    rf.eq(browse(dlx_q, death_reason="expired")["messages"], [])

    admin_http.refused("GET", messages_path(q) + "?colour=red", reason="unknown filter 'colour'")
    admin_http.refused("GET", messages_path(q) + "?state=some", reason="state must be ready, unacked or all")
    admin_http.refused("GET", messages_path(q) + "?min_delivery_count=x",
                       reason="min_delivery_count must be a non-negative integer")
    admin_http.refused("GET", messages_path("no-such-queue"), status=404)
    conn.close()


def test_delete_and_move_by_id_and_by_filter():
    roost_only()
    conn = rf.connect()
    ch = conn.channel()
    src, dst, via = rf.uniq("src"), rf.uniq("dst"), rf.uniq("via")
    x = rf.uniq("mx")
    for name in (src, dst, via):
        ch.queue_declare(name)
    ch.exchange_declare(x, "direct")
    ch.queue_bind(via, x, "k")
    publish(ch, src, 10, headers={"keep": "yes"})
    holder = rf.connect().channel()
    holder.basic_qos(prefetch_count=1)
    holder.basic_consume(src, lambda c, m, p, b: None, consumer_tag="holder")  # body-0000 stays unacked
    wait_counts(src, 9, 1)

    listed = browse(src)["messages"]
    by_body = {m["payload"]: m["id"] for m in listed}
    deleted = admin_http.ok("POST", messages_path(src) + "/delete",
                            {"ids": [by_body[body(0)], by_body[body(3)], by_body[body(4)], "999999"]}, expect=200)
    rf.eq(deleted, {"deleted": 2, "skipped_unacked": 1, "skipped_gone": 1, "unroutable": 0, "refused": 0})
    moved = admin_http.ok("POST", messages_path(src) + "/move",
                          {"filter": {"body_contains": "000"}, "queue": dst}, expect=200)  # body-0001/2/5..9
    rf.eq(moved["moved"], 7)
    rf.eq(moved["skipped_unacked"], 1)
    to_exchange = admin_http.ok("POST", messages_path(dst) + "/move",
                                {"filter": {}, "max": 2, "exchange": x, "routing_key": "k"}, expect=200)
    rf.eq(to_exchange["moved"], 2)
    nowhere = admin_http.ok("POST", messages_path(dst) + "/move",
                            {"filter": {}, "exchange": x, "routing_key": "unbound"}, expect=200)
    rf.eq((nowhere["moved"], nowhere["unroutable"]), (0, 5))

    rf.eq(payloads(browse(src, state="ready")), [])
    rf.eq(payloads(browse(dst)), [body(i) for i in (5, 6, 7, 8, 9)])
    moved_copy = browse(via)["messages"]
    rf.eq([m["payload"] for m in moved_copy], [body(1), body(2)])
    rf.eq((moved_copy[0]["exchange"], moved_copy[0]["routing_key"]), (x, "k"))
    rf.eq(moved_copy[0]["properties"]["headers"], {"keep": "yes"})
    rf.eq(moved_copy[0]["properties"]["message_id"], "1")

    admin_http.refused("POST", messages_path(src) + "/move", {"filter": {}, "queue": src},
                       reason="a queue's messages cannot be moved to itself")
    admin_http.refused("POST", messages_path(src) + "/move", {"filter": {}, "queue": "no-such-queue"}, status=404)
    admin_http.refused("POST", messages_path(src) + "/move", {"filter": {}}, reason="give a queue or an exchange to move to")
    admin_http.refused("POST", messages_path(src) + "/delete", {}, reason="give ids or a filter ({} for every message)")
    admin_http.refused("POST", messages_path(src) + "/delete", {"ids": ["x"]},
                       reason="ids must be a list of message ids, as a browse shows them")
    admin_http.refused("POST", messages_path(src) + "/delete", {"filter": {}, "max": 0},
                       reason="max must be between 1 and 1000000")
    holder.connection.close()
    conn.close()


def test_a_move_interrupted_by_kill_leaves_each_message_in_exactly_one_queue():
    roost_only()
    b = rf.start_broker(extra_args=["--queue-window", str(WINDOW)])
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    ch.confirm_delivery()
    src, dst = rf.uniq("from"), rf.uniq("to")
    ch.queue_declare(src, durable=True)
    ch.queue_declare(dst, durable=True)
    n = 6000
    for i in range(n):
        ch.basic_publish("", src, body(i).encode(), pika.BasicProperties(delivery_mode=2))
    conn.close()
    # Moved a page (1,000) at a time, each page one store transaction; killed as the answer comes.
    admin_http.ok("POST", messages_path(src) + "/move", {"filter": {}, "max": 5500, "queue": dst},
                  expect=200, port=b.http_port)
    b = rf.restart_broker(b, kill=True)
    ch = rf.connect(port=b.port).channel()
    left = all_ready(src, b.http_port)
    arrived = all_ready(dst, b.http_port)
    rf.eq(sorted(left + arrived), sorted(body(i) for i in range(n)))
    assert not set(left) & set(arrived), "a message is in both queues"
    rf.eq(arrived, sorted(arrived))  # moved in order
    rf.eq(counts(src, port=b.http_port)[0] + counts(dst, port=b.http_port)[0], n)


def test_permissions_read_on_the_source_and_write_on_the_target():
    roost_only()
    ch = rf.connect().channel()
    src, dst = rf.uniq("psrc"), rf.uniq("pdst")
    ch.queue_declare(src)
    ch.queue_declare(dst)
    publish(ch, src, 2)
    wait_counts(src, 2, 0)
    user = admin_http.make_user(rf.uniq("mover"), tags="management")
    try:
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user),
                      {"configure": "", "write": "^" + src + "$", "read": "^" + src + "$"})
        admin_http.refused("POST", messages_path(src) + "/move", {"filter": {}, "queue": dst}, status=401,
                           user=user)
        rf.eq(counts(src), (2, 0))
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user), {"configure": "", "write": "", "read": ""})
        admin_http.refused("GET", messages_path(src), status=401, user=user)
        admin_http.refused("POST", messages_path(src) + "/delete", {"filter": {}}, status=401, user=user)
        admin_http.ok("PUT", "/api/permissions/%2F/" + quote(user), {"configure": "", "write": "", "read": ".*"})
        rf.eq(len(browse_as(user, src)["messages"]), 2)
        rf.eq(counts(src), (2, 0))
    finally:
        admin_http.cleanup(users=[user])


def browse_as(user, name):
    return admin_http.ok("GET", messages_path(name), expect=200, user=user)


if __name__ == "__main__":
    rf.main()
